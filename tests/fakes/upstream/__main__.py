"""``python -m tests.fakes.upstream --host 127.0.0.1 --port 9000 [--latency-ms N] [--chunks N] ...``"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
from typing import Any

from .knobs import check_knobs
from .server import serve


def _parse(argv: list[str] | None) -> tuple[argparse.Namespace, dict[str, Any]]:
    parser = argparse.ArgumentParser(
        prog="python -m tests.fakes.upstream",
        description="A fake OpenRouter (OpenAI-compatible) upstream for Sluice's tests and benchmarks.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000, help="0 picks a free port (printed when ready)")
    parser.add_argument("--latency-ms", type=float, help="delay before the response headers")
    parser.add_argument("--chunks", type=int, help="completion words / SSE content frames (default 5)")
    parser.add_argument("--chunk-delay-ms", type=float, help="pause before each SSE frame")
    parser.add_argument("--api-key", help="require 'Authorization: Bearer KEY'")
    parser.add_argument("--knobs", default="{}", help="JSON object of server-wide knob defaults")
    parser.add_argument("--no-uvloop", action="store_true", help="use the stock asyncio loop")
    parser.add_argument(
        "--exit-with-parent", action="store_true", help="exit when standard input closes (for test helpers)"
    )
    args = parser.parse_args(argv)
    try:
        knobs = json.loads(args.knobs)
    except ValueError as exc:
        parser.error(f"--knobs: {exc}")
    for name in ("latency_ms", "chunks", "chunk_delay_ms"):
        value = getattr(args, name)
        if value is not None:
            knobs[name] = int(value) if isinstance(value, float) and value.is_integer() else value
    problem = check_knobs(knobs)
    if problem:
        parser.error(problem)
    return args, knobs


async def _main(args: argparse.Namespace, knobs: dict[str, Any]) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    if args.exit_with_parent:
        # A test run that dies without cleaning up must not leave servers behind holding ports.
        def on_stdin() -> None:
            if not os.read(stdin_fd, 4096):
                loop.remove_reader(stdin_fd)
                stop.set()

        stdin_fd = sys.stdin.fileno()
        loop.add_reader(stdin_fd, on_stdin)

    def ready(host: str, port: int) -> None:
        shown = f"[{host}]" if ":" in host else host
        print(f"fake upstream listening on http://{shown}:{port}", flush=True)

    await serve(args.host, args.port, api_key=args.api_key, knobs=knobs, stop=stop, ready=ready)


def main(argv: list[str] | None = None) -> None:
    args, knobs = _parse(argv)
    if args.no_uvloop:
        asyncio.run(_main(args, knobs))
    else:
        import uvloop

        uvloop.run(_main(args, knobs))


if __name__ == "__main__":
    main()
