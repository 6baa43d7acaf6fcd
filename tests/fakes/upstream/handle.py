"""Start the fake upstream in a subprocess and look at what it received, with no event loop needed."""

from __future__ import annotations

import json
import selectors
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .knobs import check_knobs

REPO_ROOT = Path(__file__).resolve().parents[3]
_READY_PREFIX = "fake upstream listening on "
# Loopback only: an HTTP(S)_PROXY in the environment must not catch these calls.
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@dataclass(frozen=True)
class RecordedRequest:
    id: int
    connection_id: int  # equal ids: the requests came over one kept-alive connection
    received_at: float
    method: str
    path: str  # with the query string
    headers: dict[str, str]  # lower-case names; repeated headers joined with ", "
    body: str  # the raw bytes as UTF-8 with surrogateescape; see body_bytes

    @property
    def body_bytes(self) -> bytes:
        return self.body.encode("utf-8", "surrogateescape")

    def json(self) -> Any:
        return json.loads(self.body_bytes)


class FakeUpstreamHandle:
    """A running fake upstream; a context manager that stops it on exit."""

    def __init__(self, process: subprocess.Popen[str], host: str, port: int) -> None:
        self.process = process
        self.host = host
        self.port = port

    @property
    def root_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """OpenRouter's API root, ``http://127.0.0.1:PORT/api/v1``."""
        return f"{self.root_url}/api/v1"

    @property
    def openai_base_url(self) -> str:
        """The same API under ``/v1``, as plain OpenAI-compatible servers have it."""
        return f"{self.root_url}/v1"

    def requests(self) -> list[RecordedRequest]:
        """The last 200 API requests received (oldest first); /_fake/ calls are not recorded."""
        return [RecordedRequest(**item) for item in self._call("GET", "/_fake/requests")["requests"]]

    def last_request(self) -> RecordedRequest:
        """The newest POST (a model call): a gateway's catalogue GETs arrive in the background, any time."""
        received = [request for request in self.requests() if request.method == "POST"]
        if not received:
            raise AssertionError("the fake upstream has received no POST")
        return received[-1]

    def clear(self) -> None:
        self._call("DELETE", "/_fake/requests")

    def stats(self) -> dict[str, int]:
        """open_connections (not counting this call's), aborted_streams, completed_streams, requests_total."""
        return self._call("GET", "/_fake/stats")

    def wait_for_stats(self, predicate: Callable[[dict[str, int]], bool], timeout: float = 5.0) -> dict[str, int]:
        """Poll until ``predicate(stats)``; a client's close reaches the server a moment after the client."""
        deadline = time.monotonic() + timeout
        while True:
            stats = self.stats()
            if predicate(stats):
                return stats
            if time.monotonic() > deadline:
                raise AssertionError(f"fake upstream stats never matched: {stats}")
            time.sleep(0.01)

    def configure(self, **knobs: Any) -> dict[str, Any]:
        """Change server-wide knob defaults (and ``api_key``) until ``reset_config``."""
        return self._call("PUT", "/_fake/config", knobs)

    def reset_config(self) -> dict[str, Any]:
        return self._call("DELETE", "/_fake/config")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                stream.close()

    def __enter__(self) -> FakeUpstreamHandle:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.root_url + path, data=data, method=method)  # noqa: S310
        request.add_header("Content-Type", "application/json")
        try:
            with _opener.open(request, timeout=10) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
            raise AssertionError(f"{method} {path}: {exc.code} {exc.read()!r}") from None


def start_fake_upstream(
    port: int = 0,
    *,
    host: str = "127.0.0.1",
    api_key: str | None = None,
    startup_timeout: float = 15.0,
    **knobs: Any,
) -> FakeUpstreamHandle:
    """Launch ``python -m tests.fakes.upstream`` and return once it accepts connections.

    ``knobs`` are server-wide defaults (latency_ms, chunks, chunk_delay_ms, status, ...: see knobs.py);
    a request's body field ``"fake": {...}`` overrides them for that request.
    """
    problem = check_knobs(knobs)
    if problem:
        raise ValueError(problem)
    command = [sys.executable, "-m", "tests.fakes.upstream", "--host", host, "--port", str(port)]
    command += ["--knobs", json.dumps(knobs), "--exit-with-parent"]
    if api_key is not None:
        command += ["--api-key", api_key]
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        command, cwd=REPO_ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        bound_host, bound_port = _wait_ready(process, startup_timeout)
        with socket.create_connection((bound_host, bound_port), timeout=startup_timeout):
            pass
    except BaseException:
        process.kill()
        process.wait()
        raise
    return FakeUpstreamHandle(process, bound_host, bound_port)


def _wait_ready(process: subprocess.Popen[str], timeout: float) -> tuple[str, int]:
    assert process.stdout is not None
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        while not selector.select(timeout=max(0.0, deadline - time.monotonic())):
            if time.monotonic() >= deadline:
                raise TimeoutError(f"fake upstream did not start within {timeout}s")
    line = process.stdout.readline().strip()
    if not line.startswith(_READY_PREFIX):
        process.wait(timeout=5)
        raise RuntimeError(f"fake upstream failed to start (exit {process.returncode}): {line!r}")
    address = line.removeprefix(_READY_PREFIX).removeprefix("http://")
    bound_host, _, bound_port = address.rpartition(":")
    return bound_host.strip("[]"), int(bound_port)
