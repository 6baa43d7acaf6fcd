"""The warm CLI runner: a command forked from its server reads, prints and ends as the same command
started in a fresh interpreter does (each case is run both ways and compared)."""

from __future__ import annotations

import json
import os
import subprocess
import threading
from pathlib import Path

import pytest

from tests.integration.e2e import warm_cli
from tests.integration.e2e.harness import REPO_ROOT

PROBE = "tests.integration.e2e.warm_probe"


def _env(**changes: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLUICE_")}
    for name, value in changes.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def _both(
    args: list[str],
    *,
    env: dict[str, str] | None = None,
    cwd: Path = REPO_ROOT,
    input: str | None = None,
    module: str = PROBE,
) -> tuple[subprocess.CompletedProcess[str], subprocess.CompletedProcess[str]]:
    env = _env() if env is None else env
    warm = warm_cli.run(args, env=env, cwd=cwd, input=input, module=module)
    cold = subprocess.run(  # noqa: S603
        warm_cli.command_line(args, module), env=env, cwd=cwd, input=input, capture_output=True, text=True, timeout=60
    )
    return warm, cold


def _report(result: subprocess.CompletedProcess[str]) -> dict[str, object]:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_the_child_sees_itself_as_a_fresh_process_does() -> None:
    env = _env(WARM_PROBE="only this call", HOME=None)
    warm, cold = (_report(r) for r in _both(["report", "an argument"], env=env))
    assert warm.pop("ppid") != cold.pop("ppid") == os.getpid()  # forked by the server: the one difference
    assert warm == cold
    assert warm["env"] == env and warm["fds"] == ["0", "1", "2", "3"]  # 3: the listing of /proc/self/fd itself
    assert warm["main"][:2] == ["__main__", PROBE] and warm["threads"] == 1


@pytest.mark.parametrize(
    "args", [["exit", "0"], ["exit", "7"], ["exit", "300"], ["exit", "-1"], ["exit", "a message"], ["nothing"]]
)
def test_exit_codes_and_stderr_are_a_fresh_process_s(args: list[str]) -> None:
    warm, cold = _both(args)
    assert (warm.returncode, warm.stdout, warm.stderr) == (cold.returncode, cold.stdout, cold.stderr)


def test_an_uncaught_exception_is_a_traceback_and_status_1() -> None:
    warm, cold = _both(["raise"])
    assert warm.returncode == cold.returncode == 1 and warm.stdout == cold.stdout == ""
    assert warm.stderr.startswith("Traceback (most recent call last):\n")
    assert warm.stderr.splitlines()[-1] == cold.stderr.splitlines()[-1] == "RuntimeError: probe failure"


def test_an_interrupt_and_a_signal_end_the_child_by_that_signal() -> None:
    warm, cold = _both(["interrupt"])
    assert warm.returncode == cold.returncode == -2
    assert warm.stderr.splitlines()[-1] == cold.stderr.splitlines()[-1] == "KeyboardInterrupt"
    warm, cold = _both(["kill", "15"])
    assert (warm.returncode, warm.stdout, warm.stderr) == (cold.returncode, cold.stdout, cold.stderr)
    assert warm.returncode == -15  # its stdout is written or lost as PYTHONUNBUFFERED says, in both


@pytest.mark.parametrize("text", ["a password\n", "two\r\nlines\rand a half", "é" * 200_000, ""])
def test_standard_input_is_what_was_given(text: str) -> None:
    warm, cold = _both(["echo"], input=text)
    assert (warm.returncode, warm.stdout, warm.stderr) == (cold.returncode, cold.stdout, cold.stderr)
    assert warm.stdout == text.replace("\r\n", "\n").replace("\r", "\n")


def test_no_input_leaves_the_callers_standard_input() -> None:
    warm, cold = _both(["echo"])
    assert (warm.returncode, warm.stdout, warm.stderr) == (cold.returncode, cold.stdout, cold.stderr)


def test_both_streams_full_at_once_do_not_stall() -> None:
    warm = warm_cli.run(["flood"], env=_env(), module=PROBE)
    assert (warm.returncode, len(warm.stdout), len(warm.stderr)) == (0, 1_000_000, 1_000_000)


def test_each_call_has_its_own_environment() -> None:
    assert warm_cli.run(["leak-env"], env=_env(), module=PROBE).returncode == 0
    first = _report(warm_cli.run(["report"], env=_env(WARM_PROBE="one"), module=PROBE))
    second = _report(warm_cli.run(["report"], env=_env(), module=PROBE))
    assert first["env"]["WARM_PROBE"] == "one"
    assert "WARM_PROBE" not in second["env"] and "WARM_PROBE_LEAK" not in second["env"]  # type: ignore[operator]


def test_calls_at_the_same_time_each_get_their_own_streams() -> None:
    results: dict[int, subprocess.CompletedProcess[str]] = {}

    def call(n: int) -> None:
        results[n] = warm_cli.run(["echo"], env=_env(), input=f"call {n}\n" * 1000, module=PROBE)

    threads = [threading.Thread(target=call, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(results[n].stdout == f"call {n}\n" * 1000 for n in range(6))


def test_a_timeout_kills_the_child_as_subprocess_run_does() -> None:
    with pytest.raises(subprocess.TimeoutExpired):
        warm_cli.run(["hang"], env=_env(), module=PROBE, timeout=1)


def test_a_variable_read_at_start_up_means_a_fresh_interpreter() -> None:
    changed = _report(warm_cli.run(["report"], env=_env(PYTHONWARNINGS="ignore"), module=PROBE))
    assert changed["ppid"] == os.getpid()  # not the server's child: started fresh by this process


def test_the_cli_warm_and_cold_print_the_same(tmp_path: Path) -> None:
    """The real CLI, from a directory of its own (SLUICE_DATA_DIR relative to it)."""
    env = _env(SLUICE_DATA_DIR="data", SLUICE_UPSTREAM_URL="http://127.0.0.1:9/api/v1")
    bad_config = {**env, "SLUICE_CONFIG": str(tmp_path / "missing.toml")}
    for args, call_env in [
        (["--help"], env),
        (["--version"], env),
        (["credits", "--help"], env),
        (["nope"], env),
        (["accounts", "show", "nobody@example.org"], env),
        (["accounts", "list"], bad_config),
    ]:
        warm, cold = _both(args, env=call_env, cwd=tmp_path, module=warm_cli.MODULE)
        assert (warm.returncode, warm.stdout, warm.stderr) == (cold.returncode, cold.stdout, cold.stderr), args
    assert (tmp_path / "data" / "sluice.db").exists()
    made = warm_cli.run(["accounts", "create", "warm@example.org"], env=env, cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    warm, cold = _both(
        ["accounts", "password", "warm@example.org"], env=env, cwd=tmp_path, input="short\n", module=warm_cli.MODULE
    )
    assert (warm.returncode, warm.stdout, warm.stderr) == (cold.returncode, cold.stdout, cold.stderr)
    assert warm.returncode == 1 and "A password needs 8 to 1024 characters." in warm.stderr
