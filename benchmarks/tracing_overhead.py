"""What tracing costs a request: off (the default) against the code before tracing existed, and on.

    python benchmarks/tracing_overhead.py wrappers            # the server-span wrappers alone
    python benchmarks/tracing_overhead.py gateway --base SRC  # whole requests, off / on / before

``wrappers`` times one ASGI call of a trivial app, bare, inside our `ServerSpans` and inside
opentelemetry-instrumentation-asgi's middleware (send and receive spans excluded), spans going to
a BatchSpanProcessor whose exporter drops them.

``gateway`` drives the real app (`interfaces.asgi.create()`, embedded SQLite and in-process
limiter, the ``metered`` plan of plans.toml, the fake upstream over loopback) with non-streamed
chat completions called straight through ASGI, one at a time; the figure is the gateway process's
CPU time per request (its threads included, the fake upstream's excluded), less disturbed by a
busy machine than wall time. Each variant runs in its own process, alternating, ``--rounds``
times; the medians are printed. ``--base`` is a ``src`` directory of the code before tracing
(``git archive <commit> src``), run through PYTHONPATH with this venv.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _dropping_provider() -> Any:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

    class Dropping(SpanExporter):
        def export(self, spans: Any) -> SpanExportResult:
            return SpanExportResult.SUCCESS

    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(Dropping(), max_queue_size=65536))
    return provider


# ---- the wrappers alone -----------------------------------------------------------------------


async def _trivial(scope: Any, receive: Any, send: Any) -> None:
    scope["path_template"] = "/v1/chat/completions"  # as Litestar's router leaves it
    await receive()
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": b"{}"})


def _scope() -> dict[str, Any]:
    return {
        "type": "http",
        "method": "POST",
        "path": "/v1/chat/completions",
        "query_string": b"",
        "scheme": "http",
        "http_version": "1.1",
        "server": ("127.0.0.1", 8080),
        "client": ("127.0.0.1", 50000),
        "headers": [
            (b"host", b"127.0.0.1:8080"),
            (b"user-agent", b"bench"),
            (b"authorization", b"Bearer sk-sluice-x"),
            (b"content-type", b"application/json"),
            (b"traceparent", b"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"),
        ],
    }


async def _per_call(app: Any, n: int) -> float:
    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"{}", "more_body": False}

    async def send(message: Any) -> None:
        pass

    for _ in range(500):
        await app(_scope(), receive, send)
    best = float("inf")
    for _ in range(5):
        started = time.perf_counter()
        for _ in range(n):
            await app(_scope(), receive, send)
        best = min(best, (time.perf_counter() - started) / n)
    return best * 1e6


def wrappers(n: int) -> dict[str, float]:
    from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware

    from infrastructure.telemetry.server_spans import ServerSpans

    provider = _dropping_provider()
    tracer = provider.get_tracer("bench")
    theirs = OpenTelemetryMiddleware(_trivial, tracer_provider=provider, exclude_spans=["receive", "send"])
    figures = {
        "bare": asyncio.run(_per_call(_trivial, n)),
        "ServerSpans": asyncio.run(_per_call(ServerSpans(_trivial, tracer), n)),
        "OpenTelemetryMiddleware": asyncio.run(_per_call(theirs, n)),
    }
    provider.shutdown()
    return figures


# ---- whole requests ---------------------------------------------------------------------------


async def _drive(app: Any, key: str, n: int) -> float:
    body = json.dumps({"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "hello"}]}).encode()
    headers = [
        (b"host", b"127.0.0.1"),
        (b"authorization", f"Bearer {key}".encode()),
        (b"content-type", b"application/json"),
    ]

    async def lifespan_receive() -> dict[str, Any]:
        return await queue.get()

    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    started_up = asyncio.Event()

    async def lifespan_send(message: Any) -> None:
        if message["type"] == "lifespan.startup.complete":
            started_up.set()
        if message["type"] == "lifespan.startup.failed":
            raise RuntimeError(message)

    lifespan_scope = {"type": "lifespan", "asgi": {"version": "3.0"}}
    lifespan = asyncio.create_task(app(lifespan_scope, lifespan_receive, lifespan_send))
    await queue.put({"type": "lifespan.startup"})
    await asyncio.wait_for(started_up.wait(), 30)

    statuses: list[int] = []

    async def one() -> None:
        scope = {**_scope(), "path": "/proxy/v1/chat/completions", "headers": headers, "raw_path": b"", "root_path": ""}

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: Any) -> None:
            if message["type"] == "http.response.start":
                statuses.append(message["status"])

        await app(scope, receive, send)

    for _ in range(300):
        await one()
    started = time.process_time()  # CPU time of this process (all its threads): others' load counts less
    for _ in range(n):
        await one()
    elapsed = (time.process_time() - started) / n
    assert set(statuses) == {200}, set(statuses)
    await queue.put({"type": "lifespan.shutdown"})
    await asyncio.wait_for(lifespan, 30)
    return elapsed * 1e6


def gateway_once(key: str, n: int, traced: bool) -> float:
    if traced:
        from opentelemetry import trace

        trace.set_tracer_provider(_dropping_provider())
        os.environ["OTEL_TRACES_EXPORTER"] = "console"  # on; the provider installed above is used as it is
    import logging

    from interfaces.asgi import create

    app = create()
    logging.disable(logging.WARNING)  # the request log's lines are the same in every variant: not timed
    import uvloop

    return uvloop.run(_drive(app, key, n))


def gateway(base: str | None, rounds: int, n: int) -> dict[str, float]:
    from tests.fakes.upstream import start_fake_upstream

    work = Path(tempfile.mkdtemp(prefix="sluice-trace-bench-"))
    with start_fake_upstream(api_key="sk-up") as upstream:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("SLUICE_", "OTEL_"))},
            "SLUICE_DATA_DIR": str(work),
            "SLUICE_UPSTREAM_URL": upstream.base_url,
            "SLUICE_UPSTREAM_API_KEY": "sk-up",
            "SLUICE_LOG_LEVEL": "warning",
            "SLUICE_CONFIG": str(ROOT / "benchmarks" / "plans.toml"),
        }
        cli = [sys.executable, "-m", "interfaces.cli.main"]
        subprocess.run([*cli, "migrate"], env=env, check=True, capture_output=True)
        account = [*cli, "accounts", "create", "bench@example.org", "--plan", "metered"]
        subprocess.run(account, env=env, check=True, capture_output=True)
        made = subprocess.run(
            [*cli, "keys", "create", "bench@example.org", "--name", "bench"], env=env, check=True, capture_output=True
        )
        key = made.stdout.decode().strip().splitlines()[-1]
        variants = {"off": (env, False), "on": (env, True)}
        if base:
            variants["before"] = ({**env, "PYTHONPATH": base}, False)
        figures: dict[str, list[float]] = {name: [] for name in variants}
        for _ in range(rounds):
            for name, (variant_env, traced) in variants.items():
                argv = [sys.executable, __file__, "_one", "--key", key, "-n", str(n), *(["--traced"] if traced else [])]
                out = subprocess.run(argv, env=variant_env, capture_output=True, cwd=ROOT)
                if out.returncode:
                    raise SystemExit(f"{name} failed:\n{out.stderr.decode()[-3000:]}")
                figures[name].append(float(out.stdout.decode().strip().splitlines()[-1]))
    return {name: round(statistics.median(values), 1) for name, values in figures.items()} | {
        f"{name}_all": [round(v, 1) for v in values] for name, values in figures.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="mode", required=True)
    w = sub.add_parser("wrappers")
    w.add_argument("-n", type=int, default=20000)
    g = sub.add_parser("gateway")
    g.add_argument("--base", help="src directory of the code before tracing")
    g.add_argument("--rounds", type=int, default=5)
    g.add_argument("-n", type=int, default=2000)
    one = sub.add_parser("_one")
    one.add_argument("--key", required=True)
    one.add_argument("-n", type=int, default=2000)
    one.add_argument("--traced", action="store_true")
    args = parser.parse_args()
    if args.mode == "wrappers":
        print(json.dumps({k: round(v, 2) for k, v in wrappers(args.n).items()}))
    elif args.mode == "gateway":
        print(json.dumps(gateway(args.base, args.rounds, args.n)))
    else:
        print(gateway_once(args.key, args.n, args.traced))


if __name__ == "__main__":
    main()
