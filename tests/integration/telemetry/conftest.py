"""The real gateway in this process (uvicorn in a thread), so its spans land in an in-memory exporter.

Accounts and keys are made through the CLI in a subprocess (as an operator would); the app is
built by `interfaces.asgi.create()` from the same environment, against real Postgres and Redis and
the fake upstream. Spans from every app built here go to one exporter: a test reads only the traces
of the requests it sent.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
import uvicorn
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from infrastructure.telemetry.tracing import configure_tracing
from tests.fakes.upstream import FakeUpstreamHandle, start_fake_upstream
from tests.integration.e2e.harness import Gateway, free_port

UPSTREAM_KEY = "sk-upstream-test-key"
CONFIG = """
[plans.traced]
description = "a rate limit, so that every request asks Redis"
limits = [{ name = "requests", endpoints = ["chat", "embeddings"], requests = 1000, per = "1m", subject = "key" }]
"""


@pytest.fixture(scope="session")
def exporter() -> InMemorySpanExporter:
    """The process's tracer provider, installed once; `configure_tracing` uses the one it finds."""
    exporter = InMemorySpanExporter()
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        provider = TracerProvider()
        trace.set_tracer_provider(provider)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return exporter


@pytest.fixture(scope="module")
def upstream() -> Iterator[FakeUpstreamHandle]:
    with start_fake_upstream(api_key=UPSTREAM_KEY, chunks=3) as handle:
        yield handle


@pytest.fixture(scope="module")
def database(postgres_base_url: str) -> Iterator[str]:
    from tests.conftest import _create_database, _drop_database

    url, name = asyncio.run(_create_database(postgres_base_url))
    try:
        yield url
    finally:
        asyncio.run(_drop_database(postgres_base_url, name))


@pytest.fixture(scope="module")
def operator(upstream: FakeUpstreamHandle, database: str, redis_url: str) -> Gateway:
    """The environment and the CLI of the gateways built here (the gateway itself is never started)."""
    gw = Gateway(
        upstream.base_url,
        extra_env={
            "SLUICE_DATABASE_URL": database,
            "SLUICE_REDIS_URL": redis_url,
            "SLUICE_KEY_PEPPER": "trace-pepper-0123456789abcdef",
            "SLUICE_KEY_CACHE_SECONDS": "0.001",  # every request reads its key from the database
            "SLUICE_LOG_LEVEL": "warning",
        },
    )
    (gw.dir / "sluice.toml").write_text(CONFIG)
    gw.cli("migrate")
    return gw


class InProcess:
    def __init__(self, root: str, exporter: InMemorySpanExporter, app: object) -> None:
        self.root = root
        self.app = app
        self._exporter = exporter

    def spans_of(self, trace_id: int, *, settle: float = 2.0, least: int = 1) -> list[ReadableSpan]:
        """The finished spans of one trace (a stream's client span may end just after its answer)."""
        deadline = time.monotonic() + settle
        while True:
            found = [s for s in self._exporter.get_finished_spans() if s.context.trace_id == trace_id]
            if len(found) >= least and any(s.kind is trace.SpanKind.SERVER for s in found):
                return found
            if time.monotonic() > deadline:
                return found
            time.sleep(0.02)


@contextmanager
def in_process_gateway(
    operator: Gateway, exporter: InMemorySpanExporter, env: dict[str, str]
) -> Iterator[InProcess]:
    """`create()` under the operator's environment plus `env`, served on a free port until the block ends."""
    from interfaces.asgi import create

    port = free_port()
    inherited = {k: v for k, v in operator.env.items() if not k.startswith("OTEL_")}
    wanted = {**inherited, **env, "SLUICE_PORT": str(port)}
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(wanted)  # for the gateway's whole life: its adapters are built as first needed
    try:
        app = create()
        with _serving(app) as root:
            yield InProcess(root, exporter, app)
    finally:
        os.environ.clear()
        os.environ.update(saved)
        configure_tracing({})  # off again: the tests after these build their adapters untraced


@contextmanager
def _serving(app: object) -> Iterator[str]:
    port = int(os.environ["SLUICE_PORT"])
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="on", log_config=None, loop="asyncio")
    )
    thread = threading.Thread(target=server.run, name=f"gateway-{port}", daemon=True)
    thread.start()
    root = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(root + "/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline or not thread.is_alive():
            server.should_exit = True
            raise RuntimeError("the in-process gateway did not start")
        time.sleep(0.05)
    try:
        yield root
    finally:
        server.should_exit = True
        thread.join(timeout=30)
