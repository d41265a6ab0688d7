"""Words people read: gettext catalogues, code labels and locale formatting (vi by default).

Everything a planner reads (reasons, console summary, workbook, maps) is written through
a :class:`Translator`; machine-readable outputs (``priority.csv``, ``villages.gpkg``,
``summary.json``) keep their English column names and codes.

Messages are English ``msgid`` strings in the code, marked for extraction with
``_()``, ``gettext()``, ``ngettext()`` or :func:`N_`; their Vietnamese lives in one
catalogue, ``geo_dx/locale/vi/LC_MESSAGES/geo_dx.po``, compiled in memory on first use
(no build step, so an editable install, a wheel and ``make demo`` all read the same file).
Refresh it after changing messages with ``scripts/update-catalogue`` (Babel extract +
update), then fill in the new ``msgstr`` lines; ``tests/test_i18n.py`` fails while any
message in the code is missing from the catalogue, untranslated or fuzzy.

Placeholders are named, ``str.format`` style (``"{people} people"``); numbers are
formatted for the language before they go in (:meth:`Translator.number`,
:meth:`Translator.percent`, :meth:`Translator.km`), so Vietnamese reads ``1.650`` and
``99,6 %`` and English ``1,650`` and ``99.6%``.

Examples
--------
>>> vi = translator("vi")
>>> vi.gettext("No fibre")
'Chưa có cáp quang'
>>> vi.number(1650), vi.percent(0.996, decimals=1), vi.km(1630)
('1.650', '99,6 %', '1,6 km')
>>> translator("en").gettext("{people} people", people=translator("en").number(1650))
'1,650 people'
"""

from __future__ import annotations

import datetime as dt
import gettext as _gettext
import io
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from string import Formatter
from types import MappingProxyType
from typing import Any

from geo_dx.errors import ConfigError

__all__ = [
    "CODE_LABELS",
    "COLUMN_LABELS",
    "DEFAULT_LANGUAGE",
    "DOMAIN",
    "KEYWORDS",
    "LANGUAGES",
    "LOCALE_DIR",
    "N_",
    "Translator",
    "catalogue_problems",
    "translator",
]

#: Languages of what people read (a catalogue each in ``locale/``, English is the msgids).
LANGUAGES: tuple[str, ...] = ("vi", "en")
#: Vietnamese unless the config or ``--lang`` says otherwise.
DEFAULT_LANGUAGE = "vi"
#: gettext domain: the catalogue is ``locale/<lang>/LC_MESSAGES/geo_dx.po``.
DOMAIN = "geo_dx"
#: Where the catalogues live inside the package.
LOCALE_DIR = Path(__file__).parent / "locale"
#: Functions whose first string argument is a message (Babel extraction keywords).
KEYWORDS: Mapping[str, Any] = MappingProxyType(
    {"_": None, "gettext": None, "N_": None, "ngettext": (1, 2), "pgettext": ((1, "c"), 2)}
)

#: Babel number patterns per language: percent sign spacing follows each language's habit.
_PERCENT = {"vi": "#,##0{decimals} %", "en": "#,##0{decimals}%"}
_DATE = {"vi": "dd/MM/yyyy", "en": "d MMM yyyy"}
_MISSING = "–"


def N_(message: str) -> str:
    """
    Mark a message for extraction without translating it (translate later, by label).

    Examples
    --------
    >>> N_("No fibre")
    'No fibre'
    """
    return message


#: Label of every code value shown to people, by kind (English msgids; see :meth:`label`).
CODE_LABELS: Mapping[str, Mapping[str, str]] = MappingProxyType({
    "gap_class": MappingProxyType({
        "no_fibre_no_mobile": N_("No fibre, no mobile broadband"),
        "no_mobile": N_("No mobile broadband"),
        "no_fibre": N_("No fibre"),
        "none": N_("Fibre and mobile broadband"),
    }),
    "technology": MappingProxyType({
        "fibre": N_("Fibre"),
        "5g": N_("5G mobile broadband"),
        "4g": N_("4G mobile broadband"),
        "3g": N_("3G mobile broadband"),
        "2g": N_("2G only (not broadband)"),
        "none": N_("No mobile signal"),
        "unknown": N_("Mobile broadband (technology not known)"),
    }),
    "source": MappingProxyType({
        "measured": N_("Measured (speed tests)"),
        "modelled": N_("Modelled (site reach)"),
        "declared": N_("Declared by the operator"),
    }),
    "component": MappingProxyType({
        "severity": N_("Gap severity"),
        "remoteness": N_("Remoteness"),
        "ethnic": N_("Ethnic minority share"),
        "people": N_("People"),
        "poverty": N_("Poverty rate"),
    }),
    "remoteness_method": MappingProxyType({
        "terrain": N_("Travel time over terrain"),
        "straight_line": N_("Straight-line distance"),
        "none": N_("Not known"),
    }),
    "plan_kind": MappingProxyType({
        "new_site": N_("New mobile broadband site"),
        "upgrade": N_("Upgrade of an existing site to 4G"),
        "small_cell": N_("Small cell"),
        "fibre": N_("Fibre extension"),
        "satellite_access": N_("Satellite Internet access point (Wi-Fi)"),
    }),
    "plan_technology": MappingProxyType({  # geo_dx.plan.technology.SERVICE's codes
        "upgrade": N_("Upgrade of an existing site to 4G"),
        "macro_fibre_backhaul": N_("New 4G site, fibre backhaul"),
        "macro_microwave_backhaul": N_("New 4G site, microwave backhaul"),
        "macro_satellite_backhaul": N_("New 4G site, satellite backhaul"),
        "small_cell_fibre_backhaul": N_("Small cell, fibre backhaul"),
        "small_cell_microwave_backhaul": N_("Small cell, microwave backhaul"),
        "small_cell_satellite_backhaul": N_("Small cell, satellite backhaul"),
        "satellite_access": N_("Satellite Internet access point (Wi-Fi)"),
        "fibre": N_("Fibre extension"),
    }),
    "plan_service": MappingProxyType({
        "4g": N_("4G coverage"),
        "satellite_hotspot": N_("Satellite Wi-Fi hotspot (not 4G)"),
        "fibre": N_("Fixed broadband (fibre)"),
    }),
    "plan_power": MappingProxyType({
        "grid": N_("Grid electricity"),
        "solar": N_("Solar panels and battery"),
        "existing": N_("The existing site's power"),
    }),
    "plan_origin": MappingProxyType({
        "existing_2g_site": N_("Existing 2G site"),
        "existing_3g_site": N_("Existing 3G site"),
        "dem_peak": N_("Hilltop from the elevation model"),
        "gap_village": N_("In the village"),
        "fibre_route": N_("Along the roads, the last link off-road to the village"),
        "user": N_("Candidate given by the province"),
    }),
    "boolean": MappingProxyType({"True": N_("Yes"), "False": N_("No")}),
    "grid_power": MappingProxyType({"yes": N_("Yes"), "no": N_("No"),
                                    "unknown": N_("Unknown")}),
})

#: Human header of each output column (the workbook's headers; docs/language.md lists them).
COLUMN_LABELS: Mapping[str, str] = MappingProxyType({
    "rank": N_("Rank"),
    "village_id": N_("Village code"),
    "village_name": N_("Village"),
    "commune_id": N_("Commune code"),
    "commune_name": N_("Commune"),
    "lon": N_("Longitude"),
    "lat": N_("Latitude"),
    "gap_class": N_("Gap"),
    "has_fibre": N_("Has fibre"),
    "has_mobile_broadband": N_("Has mobile broadband"),
    "mobile_technology": N_("Best mobile technology"),
    "score": N_("Priority score (0-100)"),
    "reason": N_("Why this village"),
    "plan_item": N_("Item in the plan"),
    "plan_year": N_("Year of works"),
    "year": N_("Year of works"),
    "plan_answer": N_("Option if not in the plan"),
    "contrib_severity": N_("Points: gap severity"),
    "contrib_remoteness": N_("Points: remoteness"),
    "contrib_ethnic": N_("Points: ethnic minority"),
    "contrib_people": N_("Points: people"),
    "contrib_poverty": N_("Points: poverty"),
    "missing_components": N_("Missing data"),
    "rank_p05": N_("Best likely rank"),
    "rank_p95": N_("Worst likely rank"),
    "cluster_id": N_("Roll-out cluster"),
    "travel_time_h": N_("Travel time to the nearest centre (h)"),
    "elevation_m": N_("Elevation (m)"),
    "nearest_fibre_m": N_("Nearest fibre node (m)"),
    "nearest_mobile_m": N_("Nearest mobile broadband site (m)"),
    "population": N_("Population"),
    "households": N_("Households"),
    "ethnic_minority_share": N_("Ethnic minority share"),
    "poverty_rate": N_("Poverty rate"),
    "especially_difficult": N_("Especially difficult village"),
    "grid_power": N_("Has grid power"),
    "fibre_source": N_("Fibre evidence"),
    "mobile_source": N_("Mobile evidence"),
    "mobile_blocked_by": N_("Mobile site blocked by terrain"),
    "blocked_site_distance_m": N_("Distance to the blocked site (m)"),
    "obstacle_elevation_m": N_("Obstacle elevation (m)"),
    "obstacle_distance_m": N_("Obstacle distance from the village (m)"),
    "obstacle_lon": N_("Obstacle longitude"),
    "obstacle_lat": N_("Obstacle latitude"),
    "villages": N_("Villages"),
    "with_gap": N_("Villages with a gap"),
    "without_fibre": N_("Without fibre"),
    "without_mobile_broadband": N_("Without mobile broadband"),
    "without_both": N_("Without both"),
    "gap_share": N_("Share of villages with a gap"),
    "item_id": N_("Item"),
    "kind": N_("Works"),
    "candidate_id": N_("Candidate"),
    "generated_by": N_("Where the candidate comes from"),
    "cost_vnd": N_("Cost (VND)"),
    "cumulative_cost_vnd": N_("Cumulative cost (VND)"),
    "villages_served": N_("Village codes served"),
    "village_names": N_("Villages served"),
    "people_served": N_("People served"),
    "ethnic_minority_people_served": N_("Ethnic minority people served"),
    "communes": N_("Communes served"),
    "route_km": N_("Fibre route (km)"),
    "route_road_km": N_("Of which along roads (km)"),
    "route_offroad_km": N_("Of which off-road (km)"),
    "weight_served": N_("Priority weight served"),
    "technology": N_("Technology"),
    "service": N_("Service"),
    "power": N_("Power supply"),
    "name": N_("Name"),
    "site_ref": N_("Existing site"),
    "start_node_id": N_("Fibre node it starts from"),
    "operator": N_("Operator"),
    "antenna_height_m": N_("Antenna height (m)"),
    "location_commune": N_("Commune of the works"),
    "road_distance_m": N_("Distance to the nearest road (m)"),
    "route_ends": N_("Villages where new fibre nodes go"),
})


@dataclass(frozen=True)
class Translator:
    """
    Messages, labels and number formats of one language.

    Get one with :func:`translator`; it is immutable and cached per language.

    Examples
    --------
    >>> vi = translator("vi")
    >>> vi.label("technology", "fibre"), vi.label("gap_class", "no_mobile")
    ('Cáp quang', 'Chưa có băng rộng di động')
    >>> vi.date(dt.date(2026, 11, 23)), translator("en").date(dt.date(2026, 11, 23))
    ('23/11/2026', '23 Nov 2026')
    """

    language: str
    catalogue: _gettext.NullTranslations = field(repr=False, compare=False)

    def gettext(self, message: str, /, **values: Any) -> str:
        """The message in this language, with ``{name}`` placeholders filled from ``values``."""
        text = self.catalogue.gettext(message)
        return text.format(**values) if values else text

    def pgettext(self, context: str, message: str, /, **values: Any) -> str:
        """Like :meth:`gettext` for a message whose meaning depends on ``context``."""
        text = self.catalogue.pgettext(context, message)
        return text.format(**values) if values else text

    def ngettext(self, singular: str, plural: str, n: int, /, **values: Any) -> str:
        """Singular or plural by ``n`` (Vietnamese has one form); ``{n}`` is available."""
        text = self.catalogue.ngettext(singular, plural, n)
        return text.format(n=self.number(n), **values)

    def label(self, kind: str, code: Any) -> str:
        """
        The label of a code value (a key of :data:`CODE_LABELS`); unknown codes as they are.

        Missing values (None, NaN) give an empty string.
        """
        if code is None or (isinstance(code, float) and math.isnan(code)):
            return ""
        try:
            labels = CODE_LABELS[kind]
        except KeyError as err:
            raise KeyError(f"label kind {kind!r}; allowed: {', '.join(CODE_LABELS)}") from err
        key = str(bool(code)) if kind == "boolean" else str(code)
        return self.gettext(labels[key]) if key in labels else str(code)

    def column(self, name: str) -> str:
        """The human header of an output column (:data:`COLUMN_LABELS`), else the name."""
        return self.gettext(COLUMN_LABELS[name]) if name in COLUMN_LABELS else name

    def number(self, value: float | int | None, *, decimals: int = 0) -> str:
        """Grouped number with ``decimals`` places: vi ``1.650`` / ``1,6``; en ``1,650``."""
        if value is None or not math.isfinite(float(value)):
            return _MISSING
        from babel.numbers import format_decimal

        return format_decimal(value, format="#,##0" + _fraction(decimals), locale=self.language,
                              decimal_quantization=True)

    def percent(self, share: float | None, *, decimals: int = 0) -> str:
        """A 0-1 share as a percentage: vi ``99,6 %``, en ``99.6%``."""
        if share is None or not math.isfinite(float(share)):
            return _MISSING
        from babel.numbers import format_percent

        pattern = _PERCENT[self.language].format(decimals=_fraction(decimals))
        return format_percent(share, format=pattern, locale=self.language)

    def money(self, vnd: float | None) -> str:
        """
        An amount as reports write it: tỷ đồng from a billion (one decimal), else triệu đồng.

        Examples
        --------
        >>> vi = translator("vi")
        >>> vi.money(29_986_578_715), vi.money(773_109_468), vi.money(563.9e9)
        ('30,0 tỷ đồng', '773 triệu đồng', '563,9 tỷ đồng')
        >>> translator("en").money(2.5e9)
        '2.5 bn VND'
        """
        if vnd is None or not math.isfinite(float(vnd)):
            return _MISSING
        if abs(vnd) >= 1e9:
            return self.gettext("{amount} bn VND", amount=self.number(vnd / 1e9, decimals=1))
        return self.gettext("{amount} million VND", amount=self.number(vnd / 1e6))

    def km(self, metres: float | None, *, decimals: int = 1) -> str:
        """A distance given in metres, in kilometres: vi ``1,6 km``."""
        if metres is None or not math.isfinite(float(metres)):
            return _MISSING
        return f"{self.number(metres / 1000.0, decimals=decimals)} km"

    def metres(self, metres: float | None) -> str:
        """A whole number of metres: vi ``1.720 m``."""
        if metres is None or not math.isfinite(float(metres)):
            return _MISSING
        return f"{self.number(round(metres))} m"

    def number_format(self) -> dict[str, str]:
        """
        Separators and percent pattern for page code (``geo_dx_map.js``), from Babel.

        Examples
        --------
        >>> translator("vi").number_format()
        {'decimal': ',', 'group': '.', 'percent': '{n} %'}
        """
        from babel.numbers import get_decimal_symbol, get_group_symbol

        return {"decimal": get_decimal_symbol(self.language),
                "group": get_group_symbol(self.language),
                "percent": "{n} %" if self.language == "vi" else "{n}%"}

    def date(self, value: dt.date) -> str:
        """A date: vi ``23/11/2026``, en ``23 Nov 2026``."""
        from babel.dates import format_date

        return format_date(value, format=_DATE[self.language], locale=self.language)


def _fraction(decimals: int) -> str:
    return "." + "0" * decimals if decimals > 0 else ""


@cache
def translator(language: str = DEFAULT_LANGUAGE) -> Translator:
    """
    The :class:`Translator` of ``language`` (``"vi"`` or ``"en"``), cached.

    Raises
    ------
    ConfigError
        For a language geo_dx has no catalogue for.

    Examples
    --------
    >>> translator("en").gettext("No fibre")
    'No fibre'
    >>> translator("fr")
    Traceback (most recent call last):
    ...
    geo_dx.errors.ConfigError: language was 'fr'; allowed: 'vi', 'en' (config language or --lang)
    """
    if language not in LANGUAGES:
        raise ConfigError(
            f"language was {language!r}; allowed: {', '.join(map(repr, LANGUAGES))} "
            "(config language or --lang)"
        )
    if language == "en":
        return Translator("en", _gettext.NullTranslations())
    return Translator(language, _compiled(read_catalogue(language)))


def catalogue_path(language: str) -> Path:
    """Path of a language's ``.po`` catalogue in the package."""
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def read_catalogue(language: str) -> Any:
    """The language's catalogue as a :class:`babel.messages.catalog.Catalog`."""
    from babel.messages.pofile import read_po

    with catalogue_path(language).open("rb") as fh:
        return read_po(fh, locale=language, domain=DOMAIN)


def _compiled(catalog: Any) -> _gettext.GNUTranslations:
    """Compile a Babel catalogue to gettext in memory (fuzzy entries left out)."""
    from babel.messages.mofile import write_mo

    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return _gettext.GNUTranslations(buffer)


def catalogue_problems(messages: Iterable[str | tuple[str, str]], catalog: Any) -> list[str]:
    """
    What is wrong with a catalogue for the given messages, one line per problem.

    Messages are strings, or ``(context, message)`` pairs for :meth:`Translator.pgettext`.
    A message is a problem when it is missing, has an empty or fuzzy translation, or
    its translation's ``{placeholders}`` differ from the message's. Catalogue entries no
    message uses are reported as obsolete.

    Examples
    --------
    >>> from babel.messages.catalog import Catalog
    >>> cat = Catalog(locale="vi")
    >>> _ = cat.add("No fibre", "Chưa có cáp quang")
    >>> _ = cat.add("{people} people", "{nguoi} người")
    >>> for line in catalogue_problems(["No fibre", "{people} people", "Rank"], cat):
    ...     print(line)
    missing: 'Rank'
    placeholders differ: '{people} people' has ['people'], translation has ['nguoi']
    """
    wanted = sorted({(None, m) if isinstance(m, str) else (m[0], m[1]) for m in messages},
                    key=lambda cm: (cm[1], cm[0] or ""))
    problems = []
    for context, message in wanted:
        name = repr(message) if context is None else f"{message!r} (context {context!r})"
        entry = catalog.get(message, context=context)
        if entry is None:
            problems.append(f"missing: {name}")
            continue
        text = entry.string[0] if isinstance(entry.string, tuple | list) else entry.string
        if not text:
            problems.append(f"untranslated: {name}")
        elif entry.fuzzy:
            problems.append(f"fuzzy: {name}")
        elif _fields(text) != _fields(message):
            problems.append(
                f"placeholders differ: {name} has {sorted(_fields(message))}, "
                f"translation has {sorted(_fields(text))}"
            )
    used = set(wanted)
    problems += [f"obsolete: {m.id!r}" for m in catalog
                 if m.id and (m.context, _msgid(m.id)) not in used]
    return problems


def _msgid(msgid: Any) -> str:
    return msgid[0] if isinstance(msgid, tuple | list) else msgid


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in Formatter().parse(text) if name}
