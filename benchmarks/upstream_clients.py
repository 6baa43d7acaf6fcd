"""CPU per forwarded call: the gateway's upstream pool against aiohttp and httpx, on one core.

Each client POSTs the same small chat completion to the same upstream, one call at a time and then
32 at once, and the CPU this process spent is divided by the calls. Run on a core of its own, with
the upstream elsewhere (the compiled mock of ../shared/bench, or the project's fake):

    taskset -c 0 .venv/bin/python benchmarks/upstream_clients.py --url http://127.0.0.1:18080/api/v1
"""

import argparse
import asyncio
import resource
import time

import aiohttp
import httpx
import uvloop

from infrastructure.upstream.http1 import Http1Pool

BODY = b'{"model":"bench-model","messages":[{"role":"user","content":"Say hello."}],"max_tokens":16}'
HEADERS = {"Authorization": "Bearer x", "Content-Type": "application/json", "User-Agent": "sluice-gateway"}


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def _measure(name: str, call, calls: int, concurrency: int) -> None:  # type: ignore[no-untyped-def]
    await asyncio.gather(*(call() for _ in range(concurrency)))  # open the connections first

    async def worker(n: int) -> None:
        for _ in range(n):
            await call()

    cpu, wall = _cpu(), time.perf_counter()
    await asyncio.gather(*(worker(calls // concurrency) for _ in range(concurrency)))
    cpu, wall = _cpu() - cpu, time.perf_counter() - wall
    print(f"| {name} | {concurrency} | {cpu / calls * 1e6:.0f} | {calls / wall:,.0f} |")


async def main(url: str, calls: int) -> None:
    print("| client | calls in flight | CPU per call (us) | calls/s |\n|---|---|---|---|")
    for concurrency in (1, 32):
        await _round(url, calls, concurrency)


async def _round(url: str, calls: int, concurrency: int) -> None:
    pool = Http1Pool(url)
    block = Http1Pool.header_block(HEADERS)

    async def ours() -> None:
        status, _, _ = await pool.post("/chat/completions", block, BODY, read_timeout=30)
        assert status == 200

    await _measure("Http1Pool (ours)", ours, calls, concurrency)
    await pool.aclose()

    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=1000))
    timeout = aiohttp.ClientTimeout(sock_connect=5, sock_read=30)

    async def with_aiohttp() -> None:
        async with session.post(url + "/chat/completions", data=BODY, headers=HEADERS, timeout=timeout) as r:
            await r.read()
            assert r.status == 200

    await _measure(f"aiohttp {aiohttp.__version__}", with_aiohttp, calls, concurrency)
    await session.close()

    client = httpx.AsyncClient(limits=httpx.Limits(max_connections=1000), trust_env=False)

    async def with_httpx() -> None:
        response = await client.post(url + "/chat/completions", content=BODY, headers=HEADERS)
        assert response.status_code == 200

    await _measure(f"httpx {httpx.__version__}", with_httpx, calls, concurrency)
    await client.aclose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://127.0.0.1:18080/api/v1", help="the upstream's base URL")
    parser.add_argument("--calls", type=int, default=8000)
    args = parser.parse_args()
    uvloop.run(main(args.url, args.calls))
