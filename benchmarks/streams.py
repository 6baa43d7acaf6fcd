"""Open N streaming chat completions at once and check that every one ends with ``data: [DONE]``.

    python benchmarks/streams.py --url http://127.0.0.1:8281/v1/chat/completions --key KEY -n 1000

Runs on uvloop + aiohttp in its own process (run.py pins it to the load-generator core). Every
request is started at the same moment; the result is one JSON object on stdout:

- ``ok``: streams answered 200 that ended with ``[DONE]`` and carried at least ``--min-frames``
  content frames; ``failed`` counts the rest by reason;
- ``peak_open``: the most streams that had their response headers and had not finished, at once
  (so it shows the N streams really were open together);
- ``ttfb_ms`` / ``total_ms``: time to the response headers and to the end, p50 / p99 / max.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import sys
import time

import aiohttp
import uvloop


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))], 2)


class Counters:
    def __init__(self) -> None:
        self.open = 0
        self.peak_open = 0
        self.failed: collections.Counter[str] = collections.Counter()
        self.ok = 0
        self.ttfb: list[float] = []
        self.total: list[float] = []
        self.frames: list[int] = []


async def one(
    session: aiohttp.ClientSession, url: str, body: bytes, headers: dict[str, str], c: Counters, min_frames: int
) -> None:
    started = time.perf_counter()
    opened = False
    try:
        async with session.post(url, data=body, headers=headers) as response:
            c.ttfb.append((time.perf_counter() - started) * 1000)
            if response.status != 200:
                await response.read()
                c.failed[f"http_{response.status}"] += 1
                return
            c.open += 1
            opened = True
            c.peak_open = max(c.peak_open, c.open)
            frames = 0
            done = False
            async for raw in response.content:
                line = raw.strip()
                if not line.startswith(b"data:"):
                    continue
                data = line[5:].strip()
                if data == b"[DONE]":
                    done = True
                elif b'"content"' in data:
                    frames += 1
            c.frames.append(frames)
            if not done:
                c.failed["no_done"] += 1
            elif frames < min_frames:
                c.failed["too_few_frames"] += 1
            else:
                c.ok += 1
                c.total.append((time.perf_counter() - started) * 1000)
    except Exception as exc:
        c.failed[type(exc).__name__] += 1
    finally:
        if opened:
            c.open -= 1


async def main(args: argparse.Namespace) -> dict[str, object]:
    payload: dict[str, object] = {
        "model": args.model,
        "stream": True,
        "messages": [{"role": "user", "content": "Stream a few words to the benchmark."}],
    }
    if args.fake_knobs:
        payload["fake"] = json.loads(args.fake_knobs)
    body = json.dumps(payload).encode()
    headers = {"Content-Type": "application/json", "Accept": "text/event-stream"}
    if args.key:
        headers["Authorization"] = f"Bearer {args.key}"
    counters = Counters()
    connector = aiohttp.TCPConnector(limit=0, force_close=True)
    timeout = aiohttp.ClientTimeout(total=args.timeout)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        started = time.perf_counter()
        await asyncio.gather(*(one(session, args.url, body, headers, counters, args.min_frames) for _ in range(args.n)))
        wall = time.perf_counter() - started
    return {
        "requested": args.n,
        "ok": counters.ok,
        "failed": dict(counters.failed),
        "peak_open": counters.peak_open,
        "wall_s": round(wall, 2),
        "ttfb_ms": {
            "p50": _pct(counters.ttfb, 50),
            "p99": _pct(counters.ttfb, 99),
            "max": round(max(counters.ttfb), 2) if counters.ttfb else None,
        },
        "total_ms": {
            "p50": _pct(counters.total, 50),
            "p99": _pct(counters.total, 99),
            "max": round(max(counters.total), 2) if counters.total else None,
        },
        "content_frames_min": min(counters.frames) if counters.frames else None,
    }


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True)
    parser.add_argument("--key", default="")
    parser.add_argument("-n", type=int, default=1000)
    parser.add_argument("--model", default="qwen/qwen3-32b")
    parser.add_argument("--min-frames", type=int, default=1, help="content frames a stream must carry")
    parser.add_argument("--fake-knobs", default="", help='JSON for the body field "fake" (the fake upstream)')
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds for each stream, end to end")
    result = uvloop.run(main(parser.parse_args()))
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    cli()
