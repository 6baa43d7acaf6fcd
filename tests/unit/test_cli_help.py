"""`sluice ... --help` and argparse's usage errors print exactly what tests/unit/cli_help.txt holds.

The text was taken before the CLI's imports were made lazy: a command's module is imported only when it
runs, and no help text may change with that (operators and their scripts read these).
"""

from pathlib import Path

import pytest

from tests.unit.cli_help_snapshot import snapshot

GOLDEN = Path(__file__).with_name("cli_help.txt")


def test_every_help_text_and_usage_error_is_unchanged(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "100")  # argparse wraps to the terminal's width
    assert snapshot() == GOLDEN.read_text(), (
        "a help text changed; if on purpose: COLUMNS=100 python -m tests.unit.cli_help_snapshot > " + str(GOLDEN)
    )
