"""Translations: the catalogue covers every message in the code; labels and locale formats."""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg

from geo_dx.config import config_from_dict
from geo_dx.errors import ConfigError
from geo_dx.i18n import (
    CODE_LABELS,
    COLUMN_LABELS,
    catalogue_problems,
    read_catalogue,
    translator,
)
from geo_dx.run.report import PRIORITY_COLUMNS
from geo_dx.schema import COMPONENTS, GAP_CLASSES, SOURCES, TECHNOLOGIES

ROOT = Path(__file__).resolve().parents[1]


def code_messages() -> set[str | tuple[str, str]]:
    """Every message marked in the package, extracted exactly as scripts/update-catalogue does."""
    with (ROOT / "babel.cfg").open(encoding="utf-8") as fh:
        method_map, options_map = parse_mapping_cfg(fh)
    found = extract_from_dir(str(ROOT), method_map, options_map, keywords=DEFAULT_KEYWORDS)
    messages = set()
    for _filename, _lineno, message, _comments, context in found:
        # A plural message is one catalogue entry, keyed by its singular.
        text = message[0] if isinstance(message, tuple) else message
        messages.add((context, text) if context else text)
    return messages


def label_messages() -> set[str]:
    return {m for labels in CODE_LABELS.values() for m in labels.values()} | set(
        COLUMN_LABELS.values()
    )


def test_every_message_in_the_code_is_translated_in_the_vietnamese_catalogue() -> None:
    messages = code_messages() | label_messages()
    assert len(messages) > 80  # extraction really found the marked messages
    assert "{people} people" in messages and "No fibre" in messages
    assert catalogue_problems(messages, read_catalogue("vi")) == []


def test_the_check_fails_on_a_missing_untranslated_or_fuzzy_entry() -> None:
    messages = code_messages() | label_messages()
    catalog = read_catalogue("vi")
    broken = copy.deepcopy(catalog)
    del broken["No fibre"]
    broken["{people} people"].string = ""
    broken["Rank"].flags.add("fuzzy")
    broken["Village"].string = "Thôn, bản {name}"
    broken.add("A message nobody uses", "Không ai dùng")
    problems = catalogue_problems(messages, broken)
    assert "missing: 'No fibre'" in problems
    assert "untranslated: '{people} people'" in problems
    assert "fuzzy: 'Rank'" in problems
    assert any(p.startswith("placeholders differ: 'Village'") for p in problems)
    assert "obsolete: 'A message nobody uses'" in problems
    assert len(problems) == 5


def test_a_fuzzy_entry_is_not_used_at_run_time() -> None:
    from geo_dx.i18n import _compiled

    catalog = copy.deepcopy(read_catalogue("vi"))
    catalog["Rank"].flags.add("fuzzy")
    assert _compiled(catalog).gettext("Rank") == "Rank"
    assert _compiled(read_catalogue("vi")).gettext("Rank") == "Thứ tự ưu tiên"


def test_every_code_shown_to_people_has_a_vietnamese_label() -> None:
    vi, en = translator("vi"), translator("en")
    codes = {
        "gap_class": GAP_CLASSES,
        "technology": (*TECHNOLOGIES, "none", "unknown"),
        "source": SOURCES,
        "component": COMPONENTS,
        "remoteness_method": ("terrain", "straight_line", "none"),
    }
    assert set(CODE_LABELS["gap_class"]) == set(GAP_CLASSES)
    for kind, values in codes.items():
        for code in values:
            assert code in CODE_LABELS[kind], (kind, code)
            assert vi.label(kind, code) != en.label(kind, code) or code in ("5g", "4g", "3g")
    from geo_dx.plan.candidates import GENERATED_BY
    from geo_dx.schema import CANDIDATE_KINDS

    for code in GENERATED_BY:
        assert code in CODE_LABELS["plan_origin"], code
    for code in (*CANDIDATE_KINDS, "fibre"):
        assert code in CODE_LABELS["plan_kind"], code
    assert vi.label("plan_kind", "new_site") == "Xây mới trạm BTS 4G"
    assert vi.label("technology", "fibre") == "Cáp quang"
    assert vi.label("technology", "4g") == "Băng rộng di động 4G"
    assert vi.label("source", "measured").startswith("Đo thực tế")
    assert vi.label("boolean", True) == "Có" and vi.label("boolean", False) == "Không"
    assert vi.label("gap_class", None) == "" and vi.label("gap_class", "odd") == "odd"
    for column in PRIORITY_COLUMNS:
        assert column in COLUMN_LABELS, column
        assert vi.column(column) != column


@pytest.mark.parametrize(
    ("language", "number", "decimal", "percent", "date", "km"),
    [
        ("vi", "1.650", "1,6", "99,6 %", "23/11/2026", "1,6 km"),
        ("en", "1,650", "1.6", "99.6%", "23 Nov 2026", "1.6 km"),
    ],
)
def test_numbers_percentages_and_dates_follow_the_locale(
    language: str, number: str, decimal: str, percent: str, date: str, km: str
) -> None:
    tr = translator(language)
    assert tr.number(1650) == number
    assert tr.number(1.6349, decimals=1) == decimal
    assert tr.percent(0.996, decimals=1) == percent
    assert tr.date(dt.date(2026, 11, 23)) == date
    assert tr.km(1630.0) == km
    assert tr.number(float("nan")) == "–" and tr.percent(None) == "–"


def test_vietnamese_percent_rounds_like_the_english() -> None:
    vi, en = translator("vi"), translator("en")
    for share in (0.0, 0.045, 0.5, 0.955, 1.0):
        assert vi.percent(share).replace(" %", "%") == en.percent(share)


def test_messages_fill_placeholders_in_each_language() -> None:
    vi, en = translator("vi"), translator("en")
    assert vi.gettext("{people} people", people=vi.number(1650)) == "1.650 người"
    assert en.gettext("{people} people", people=en.number(1650)) == "1,650 people"
    assert vi.gettext("not in the catalogue") == "not in the catalogue"


def test_unknown_language_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="language was 'fr'; allowed: 'vi', 'en'"):
        translator("fr")
    with pytest.raises(ConfigError, match="language was 'de'"):
        config_from_dict({"language": "de"}, source="geo_dx.toml")
    assert config_from_dict({"language": "en"}).language == "en"
    assert config_from_dict({}).language == "vi"


def test_docs_list_the_vietnamese_label_of_every_column_and_code() -> None:
    readme = (ROOT / "docs" / "language.md").read_text(encoding="utf-8")
    vi = translator("vi")
    for column, message in COLUMN_LABELS.items():
        assert f"| `{column}` | {vi.gettext(message)} |" in readme, column
    for kind, labels in CODE_LABELS.items():
        if kind != "boolean":
            for code, message in labels.items():
                assert f"| {kind} | `{code}` | {vi.gettext(message)} |" in readme, (kind, code)
