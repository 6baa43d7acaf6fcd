"""`sluice` imports a command's module only when that command runs: the table names every command."""

import argparse
import inspect
import json
import subprocess
import sys

from interfaces.cli.admin_commands import COMMANDS, load_command
from interfaces.cli.parser import build_parser


def _pairs() -> set[tuple[str, str | None]]:
    pairs: set[tuple[str, str | None]] = set()
    for action in build_parser()._actions:
        if isinstance(action, argparse._SubParsersAction):
            for command, sub in action.choices.items():
                subs = [a for a in sub._actions if isinstance(a, argparse._SubParsersAction)]
                pairs |= {(command, name) for name in subs[0].choices} if subs else {(command, None)}
    return pairs


def test_every_command_but_serve_is_in_the_table_and_runs_a_coroutine() -> None:
    assert set(COMMANDS) == _pairs() - {("serve", None)}
    for command, action in COMMANDS:
        assert inspect.iscoroutinefunction(load_command(command, action)), (command, action)


def test_help_imports_no_command_and_none_of_the_app() -> None:
    script = (
        "import contextlib, io, json, sys\n"
        "from interfaces.cli.main import main\n"
        "with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
        "    main(['accounts', 'create', '--help'])\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True)  # noqa: S603
    modules = json.loads(done.stdout)
    heavy = ("infrastructure", "application", "dishka", "sqlalchemy", "litestar", "alembic", "interfaces.providers")
    assert [m for m in modules if m.startswith(heavy)] == []
    assert [m for m in modules if m.startswith("interfaces.cli.")] == [
        "interfaces.cli.admin_commands",
        "interfaces.cli.main",
        "interfaces.cli.parser",
    ]
