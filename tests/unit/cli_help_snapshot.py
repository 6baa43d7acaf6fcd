"""Every help text and usage error `sluice` prints, in one text: what tests/unit/cli_help.txt holds.

After changing a help text on purpose, write it again (and read the diff):
    COLUMNS=100 .venv/bin/python -m tests.unit.cli_help_snapshot > tests/unit/cli_help.txt
"""

import argparse
import contextlib
import io
from collections.abc import Iterator

from interfaces.cli.main import main
from interfaces.cli.parser import build_parser

# Usage errors argparse answers before any command runs: their words are the CLI's too.
MISTAKES = [[], ["accounts"], ["nope"], ["credits", "grant"], ["usage", "--by", "week"]]


def _paths(parser: argparse.ArgumentParser, path: list[str]) -> Iterator[list[str]]:
    yield path
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _paths(sub, [*path, name])


def _run(argv: list[str]) -> str:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exc:
            code = exc.code
    return f"$ sluice {' '.join(argv)}\n[exit {code}]\n[stdout]\n{out.getvalue()}[stderr]\n{err.getvalue()}"


def snapshot() -> str:
    runs = [[*path, "--help"] for path in _paths(build_parser(), [])]
    return "\n".join(_run(argv) for argv in [*runs, *MISTAKES])


if __name__ == "__main__":
    print(snapshot(), end="")
