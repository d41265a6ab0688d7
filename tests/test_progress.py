"""Stage records and the progress bar (drawn only on a terminal)."""

from __future__ import annotations

import io
import threading
import time

from geo_dx.run.progress import progress_bar, recording, stage


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_stages_are_recorded_in_order_with_time_and_memory():
    with recording() as log:
        with stage("a"):
            time.sleep(0.02)
        with stage("b"):
            pass
    assert [r.name for r in log.records] == ["a", "b"]
    assert log.records[0].seconds >= 0.02 > log.records[1].seconds
    assert all(r.peak_mb > 10 for r in log.records)
    with stage("outside"):  # no recording: nothing collected, nothing raised
        pass
    assert len(log.records) == 2


def test_no_bar_when_the_stream_is_not_a_terminal():
    stream = io.StringIO()
    with progress_bar(3, stream=stream) as bar:
        with stage("gaps"):
            pass
    assert bar is None
    assert stream.getvalue() == ""


def test_bar_on_a_terminal_names_the_stage_and_shows_elapsed_time():
    stream = FakeTerminal()
    with progress_bar(2, stream=stream) as bar:
        with stage("travel time"):
            pass
        assert bar.n == 1
    text = stream.getvalue()
    assert "travel time" in text
    assert "00:00" in text  # elapsed


def test_bar_starts_no_thread_so_work_can_still_fork():
    # tqdm's monitor thread made fork_map write pages in one process on a terminal
    from tqdm import tqdm

    if tqdm.monitor is not None:  # one left by another test's bar
        tqdm.monitor.exit()
        tqdm.monitor = None
    before = set(threading.enumerate())
    with progress_bar(2, stream=FakeTerminal()) as bar:
        assert bar is not None and set(threading.enumerate()) == before


def test_cli_run_prints_no_bar_when_stderr_is_not_a_terminal(tmp_path, capsys):
    from geo_dx.cli import main

    assert main(["run", "--out", str(tmp_path / "out"), "-q"]) == 0
    err = capsys.readouterr().err
    assert "\r" not in err and "stage" not in err and "[00:" not in err
