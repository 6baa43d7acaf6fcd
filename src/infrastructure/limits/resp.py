"""A minimal pipelined Redis connection for the one command on the hot path (EVALSHA).

redis-py spends more CPU per call than the whole rest of a rate decision: a pool checkout, a retry
wrapper and a general reply parser. Here every caller queues its command on one shared connection
(the commands of one loop turn go out in one write) and awaits its reply in arrival order, so
concurrent decisions share one socket and cost a few microseconds of Python each. Everything else
(scripts, spend counters) stays on redis-py.
"""

import asyncio
from collections import deque
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote, urlparse

from redis.exceptions import ResponseError

Reply = Any


class RespError(ResponseError):
    """An error reply from Redis (NOSCRIPT, NOAUTH, WRONGPASS, OOM, READONLY, ...).

    A redis-py ResponseError, so the HTTP layer answers it as it answers redis-py's: 503.
    """


class _Incomplete(Exception):
    pass


def encode(*args: bytes | str | int) -> bytes:
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        data = arg if isinstance(arg, bytes) else str(arg).encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(parts)


def parse(buffer: bytes, pos: int) -> tuple[Reply, int]:
    """One RESP2 reply starting at `pos`; raises _Incomplete when the buffer ends first."""
    end = buffer.find(b"\r\n", pos)
    if end < 0:
        raise _Incomplete
    kind, line = buffer[pos : pos + 1], buffer[pos + 1 : end]
    pos = end + 2
    if kind == b":":
        return int(line), pos
    if kind == b"+":
        return line, pos
    if kind == b"-":
        return RespError(line.decode(errors="replace")), pos
    if kind == b"$":
        size = int(line)
        if size < 0:
            return None, pos
        if len(buffer) < pos + size + 2:
            raise _Incomplete
        return buffer[pos : pos + size], pos + size + 2
    if kind == b"*":
        count = int(line)
        if count < 0:
            return None, pos
        items = []
        for _ in range(count):
            item, pos = parse(buffer, pos)
            items.append(item)
        return items, pos
    raise RespError(f"unexpected reply type {kind!r}")


class _Protocol(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.waiting: deque[asyncio.Future[Reply]] = deque()
        self.buffer = b""
        self.closed = False
        self.outbox: list[bytes] = []

    def queue(self, command: bytes, future: asyncio.Future[Reply]) -> None:
        """Sends `command` at the end of this turn of the loop, with every other command queued in it.

        One write for all the decisions taken in a loop turn: each write wakes Redis, and the
        write per command was the gateway's most expensive line at c=64 (9% of its samples).
        """
        self.waiting.append(future)
        if not self.outbox:
            future.get_loop().call_soon(self.flush)
        self.outbox.append(command)

    def flush(self) -> None:
        commands, self.outbox = self.outbox, []
        if commands and not self.closed and self.transport is not None:
            self.transport.write(commands[0] if len(commands) == 1 else b"".join(commands))

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer + data if self.buffer else data
        pos = 0
        while pos < len(buffer) and self.waiting:
            try:
                reply, pos = parse(buffer, pos)
            except _Incomplete:
                break
            future = self.waiting.popleft()
            if not future.done():  # a caller that timed out has gone; its reply is dropped in turn
                future.set_result(reply)
        self.buffer = buffer[pos:]

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        error = ConnectionError(f"Redis connection lost: {exc}" if exc else "Redis connection closed")
        while self.waiting:
            future = self.waiting.popleft()
            if not future.done():
                future.set_exception(error)


class RespPipeline:
    def __init__(self, url: str, *, timeout: float = 1.0, on_error: Callable[[], None] | None = None) -> None:
        parsed = urlparse(url)
        if parsed.scheme not in ("redis", ""):
            raise ValueError("the pipelined Redis connection speaks plain redis:// only")
        self._host = parsed.hostname or "127.0.0.1"
        self._port = parsed.port or 6379
        self._db = int(parsed.path.lstrip("/") or 0)
        self._username = unquote(parsed.username) if parsed.username else None
        self._password = unquote(parsed.password) if parsed.password else None
        self._timeout = timeout
        self._protocol: _Protocol | None = None
        self._connecting = asyncio.Lock()
        self._on_error = on_error  # told of every failure to reach Redis (the backend-error metric)

    async def call(self, *args: bytes | str | int) -> Reply:
        try:
            protocol = self._protocol
            if protocol is None or protocol.closed:
                protocol = await self._connect()
            return await self._send(protocol, encode(*args))
        except Exception as exc:
            # NOSCRIPT only tells the caller to load its script; a refused AUTH, an OOM or a lost
            # connection are Redis failing.
            if self._on_error is not None and not str(exc).startswith("NOSCRIPT"):
                self._on_error()
            raise

    async def _send(self, protocol: _Protocol, command: bytes) -> Reply:
        future: asyncio.Future[Reply] = asyncio.get_running_loop().create_future()
        protocol.queue(command, future)
        async with asyncio.timeout(self._timeout):
            reply = await future
        if isinstance(reply, RespError):
            raise reply
        return reply

    async def _connect(self) -> _Protocol:
        # Concurrent first callers queue on the lock and share the one connection it yields.
        async with self._connecting:
            if self._protocol is not None and not self._protocol.closed:
                return self._protocol
            self._protocol = None
            loop = asyncio.get_running_loop()
            async with asyncio.timeout(self._timeout):
                _, protocol = await loop.create_connection(_Protocol, self._host, self._port)
            try:
                if self._password is not None:
                    auth = ("AUTH", self._username, self._password) if self._username else ("AUTH", self._password)
                    await self._send(protocol, encode(*auth))
                if self._db:
                    await self._send(protocol, encode("SELECT", self._db))
            except BaseException:
                assert protocol.transport is not None
                protocol.transport.close()
                raise
            # Published only now: a command sent before AUTH and SELECT would run as nobody on db 0.
            self._protocol = protocol
            return protocol

    async def aclose(self) -> None:
        if self._protocol is not None and self._protocol.transport is not None:
            self._protocol.transport.close()
        self._protocol = None
