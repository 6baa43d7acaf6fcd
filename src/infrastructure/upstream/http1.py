"""A lean HTTP/1.1 client for the upstream's hot path: pooled keep-alive connections, httptools' parser.

Every request the gateway forwards is one POST to one origin, over a pool of kept-alive connections.
aiohttp's session spent 64 us of CPU on such a POST at 32 calls in flight and 115 us one at a time;
this client spends 14 and 40 (benchmarks/upstream_clients.py). The parsing is httptools' (llhttp,
the parser uvicorn uses); what is written here is the pool, the request line and the timeouts.

- A connection is put back in the pool the moment its answer is complete (a stream's last bytes
  may still wait to be read by the relay); one cut short is closed, which is how the upstream
  learns that nobody reads any more. Kept connections expire after ``keepalive_expiry`` idle.
- ``read_timeout`` is the longest silence while an answer is awaited, not a limit on its length.
- A stream's reader that falls behind pauses the socket (at 256 KiB buffered), so a slow client
  holds the upstream back instead of growing the gateway's memory.
- Failures are the exceptions below; the adapter maps them to what the gateway's caller sees.
"""

from __future__ import annotations

import asyncio
import ssl
import zlib
from collections import deque
from urllib.parse import urlsplit

import httptools

__all__ = [
    "AnswerTimedOut",
    "BadAnswer",
    "ConnectFailed",
    "Disconnected",
    "Http1Pool",
    "Http1Stream",
]

_PAUSE_AT = 256 * 1024
_RESUME_AT = 64 * 1024


class ConnectFailed(ConnectionError):
    """No connection could be opened (refused, unreachable, TLS handshake failed)."""


class Disconnected(ConnectionError):
    """The upstream closed the connection before its answer was complete."""


class AnswerTimedOut(TimeoutError):
    """The connection took too long to open, or the answer fell silent for too long."""


class BadAnswer(Exception):
    """What came back is not HTTP/1.1 this client can read."""


class _Exchange:
    """One request's answer as the parser sees it; a stream's body is queued for its reader."""

    __slots__ = (
        "body", "chunks", "conn", "decoder", "ended", "error", "finished", "head", "headers", "last",
        "paused", "queued", "status", "streamed", "timer", "waiter",
    )  # fmt: skip

    def __init__(self, conn: _Connection, streamed: bool) -> None:
        loop = conn.loop
        self.conn = conn
        self.streamed = streamed
        self.status = 0
        self.headers: dict[str, str] = {}
        self.head: asyncio.Future[None] = loop.create_future()
        self.body: list[bytes] = []  # a collected answer's parts
        self.chunks: deque[bytes] = deque()  # a stream's parts not read yet
        self.queued = 0
        self.waiter: asyncio.Future[None] | None = None
        self.decoder: zlib._Decompress | None = None
        self.error: BaseException | None = None
        self.ended = False  # the whole answer arrived
        self.finished = False  # ended or failed
        self.paused = False
        self.last = loop.time()
        self.timer: asyncio.TimerHandle | None = None

    def on_head(self, status: int) -> None:
        self.status = status
        encoding = self.headers.get("content-encoding", "").strip().lower()
        if encoding in ("gzip", "x-gzip"):
            self.decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif encoding == "deflate":
            self.decoder = zlib.decompressobj()
        if not self.head.done():
            self.head.set_result(None)

    def on_body(self, data: bytes) -> None:
        if self.decoder is not None:
            try:
                data = self.decoder.decompress(data)
            except zlib.error as exc:
                self.fail(BadAnswer(f"undecodable body: {exc}"))
                return
        if not self.streamed:
            self.body.append(data)
            return
        if data:
            self.chunks.append(data)
            self.queued += len(data)
            if self.queued > _PAUSE_AT and not self.paused and self.conn.transport is not None:
                self.paused = True
                self.conn.transport.pause_reading()
            self._wake()

    def on_complete(self) -> None:
        if self.decoder is not None:
            rest = self.decoder.flush()
            self.decoder = None
            if rest:
                self.on_body(rest)
        self.ended = self.finished = True
        self._stop_timer()
        if self.paused:  # the connection goes back to the pool: it must read again
            self.paused = False
            if self.conn.transport is not None:
                self.conn.transport.resume_reading()
        if not self.head.done():
            self.head.set_result(None)
        self._wake()

    def fail(self, error: BaseException) -> None:
        if self.finished:
            return
        self.finished = True
        self.error = error
        self._stop_timer()
        if not self.head.done():
            self.head.set_exception(error)
            self.head.exception()  # retrieved: a caller that went away must not leave it unread
        self._wake()

    def _wake(self) -> None:
        waiter = self.waiter
        if waiter is not None:
            self.waiter = None
            if not waiter.done():
                waiter.set_result(None)

    def _stop_timer(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None

    def watch(self, seconds: float) -> None:
        """Fails the exchange once the answer has been silent for `seconds`."""
        self.timer = self.conn.loop.call_at(self.last + seconds, self._check_silence, seconds)

    def _check_silence(self, seconds: float) -> None:
        self.timer = None
        if self.finished:
            return
        now = self.conn.loop.time()
        if self.paused:
            self.last = now  # held back by our own reader, not silent
        if now - self.last >= seconds:
            self.fail(AnswerTimedOut("the upstream fell silent"))
            self.conn.abort()
        else:
            self.timer = self.conn.loop.call_at(self.last + seconds, self._check_silence, seconds)

    async def collected(self) -> bytes:
        """A non-streamed answer's whole body."""
        while not self.finished:
            self.waiter = self.conn.loop.create_future()
            await self.waiter
        if self.error is not None:
            raise self.error
        return b"".join(self.body)

    async def next_chunk(self) -> bytes | None:
        """What of a stream has arrived and not been read, None at its end."""
        chunks = self.chunks
        while not chunks:
            if self.error is not None:
                raise self.error
            if self.ended:
                return None
            self.waiter = self.conn.loop.create_future()
            await self.waiter
        # Everything that has come, in one piece: a chunked body parses into one part per chunk,
        # and the relay writes what it is given at once.
        data = chunks.popleft() if len(chunks) == 1 else b"".join(chunks)
        chunks.clear()
        self.queued = 0
        if self.paused and self.queued < _RESUME_AT:
            self.paused = False
            if not self.conn.closed and self.conn.transport is not None:
                self.conn.transport.resume_reading()
        return data


class _Connection(asyncio.Protocol):
    __slots__ = (
        "close_delimited", "closed", "counted", "exchange", "idle_since", "loop", "parser", "pool", "reusable",
        "transport",
    )  # fmt: skip

    def __init__(self, pool: Http1Pool) -> None:
        self.pool = pool
        self.loop = pool.loop
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.exchange: _Exchange | None = None
        self.closed = False
        self.reusable = False
        self.close_delimited = False
        self.idle_since = 0.0
        self.counted = False  # holds one of the pool's slots (from a successful connect)

    # -- the transport's callbacks ----------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        exchange = self.exchange
        if exchange is None:
            self.abort()  # bytes nobody asked for: this connection cannot be trusted again
            return
        exchange.last = self.loop.time()
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            exchange.fail(BadAnswer(f"unreadable answer: {exc}"))
            self.abort()
            return
        if exchange.ended:
            self.exchange = None
            if self.reusable and not self.closed:
                self.pool.put_back(self)
            else:
                self.abort()

    def eof_received(self) -> bool:
        return False  # close our side too: HTTP/1.1 has no use for a half-open connection

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        exchange = self.exchange
        self.exchange = None
        if exchange is not None and not exchange.finished:
            if self.close_delimited and exc is None and exchange.head.done():
                exchange.on_complete()  # a body without length or chunks ends where the connection does
            else:
                exchange.fail(Disconnected(f"the upstream closed the connection{f': {exc}' if exc else ''}"))
        self.pool.lost(self)

    # -- the parser's callbacks ---------------------------------------------------------------------

    def on_header(self, name: bytes, value: bytes) -> None:
        assert self.exchange is not None
        self.exchange.headers[name.decode("latin-1").lower()] = value.decode("latin-1")

    def on_headers_complete(self) -> None:
        exchange = self.exchange
        assert exchange is not None
        headers = exchange.headers
        self.close_delimited = "content-length" not in headers and "chunked" not in headers.get("transfer-encoding", "")
        exchange.on_head(self.parser.get_status_code())

    def on_body(self, body: bytes) -> None:
        assert self.exchange is not None
        self.exchange.on_body(body)

    def on_message_complete(self) -> None:
        self.reusable = self.parser.should_keep_alive()
        assert self.exchange is not None
        self.exchange.on_complete()

    # -- ours -------------------------------------------------------------------------------------------

    def send(self, request: bytes, *, streamed: bool, read_timeout: float) -> _Exchange:
        exchange = self.exchange = _Exchange(self, streamed)
        self.reusable = False
        exchange.watch(read_timeout)
        assert self.transport is not None
        self.transport.write(request)
        return exchange

    def abort(self) -> None:
        if not self.closed and self.transport is not None:
            self.closed = True
            self.transport.abort()  # no lingering: connection_lost follows on the next turn


class Http1Stream:
    """An answer being read as it arrives; read it to the end, or `close` it to hang up."""

    __slots__ = ("_exchange", "headers", "status")

    def __init__(self, exchange: _Exchange) -> None:
        self._exchange = exchange
        self.status = exchange.status
        self.headers = exchange.headers

    def __aiter__(self) -> Http1Stream:
        return self

    async def __anext__(self) -> bytes:
        data = await self._exchange.next_chunk()
        if data is None:
            raise StopAsyncIteration
        return data

    async def read(self, limit: int) -> bytes:
        """Up to about `limit` bytes of what is left (an error body), then hangs up."""
        parts, size = [], 0
        try:
            async for chunk in self:
                parts.append(chunk)
                size += len(chunk)
                if size >= limit:
                    break
        finally:
            self.close()
        return b"".join(parts)

    def close(self) -> None:
        exchange = self._exchange
        if not exchange.finished:
            exchange.fail(Disconnected("closed by the gateway"))
            exchange.conn.abort()


class Http1Pool:
    """Connections to one origin (``base_url``'s scheme, host and port); requests go to paths under it."""

    def __init__(
        self,
        base_url: str,
        *,
        max_connections: int = 1000,
        keepalive_expiry: float = 4.0,
        connect_timeout: float = 5.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        url = urlsplit(base_url)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise ValueError(f"not an http(s) URL: {base_url!r}")
        self._host = url.hostname
        self._port = url.port or (443 if url.scheme == "https" else 80)
        default_port = self._port == (443 if url.scheme == "https" else 80)
        host = f"[{self._host}]" if ":" in self._host else self._host
        authority = host if default_port else f"{host}:{self._port}"
        self._prefix = url.path.rstrip("/")
        self._ssl: ssl.SSLContext | None = None
        if url.scheme == "https":
            self._ssl = ssl_context or ssl.create_default_context()
            self._ssl.set_alpn_protocols(["http/1.1"])
        self._host_line = f"Host: {authority}\r\n".encode("latin-1")
        self._max = max_connections
        self._expiry = keepalive_expiry
        self._connect_timeout = connect_timeout
        self._idle: deque[_Connection] = deque()
        self._waiters: deque[asyncio.Future[_Connection | None]] = deque()
        self._open = 0
        self._lines: dict[str, bytes] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
        return self._loop

    @staticmethod
    def header_block(headers: dict[str, str]) -> bytes:
        """Headers as they go on the wire, built once for headers that do not change between calls."""
        for name, value in headers.items():
            if any(c in name + value for c in "\r\n\0"):
                raise ValueError(f"header {name!r} holds a line break or NUL")
        return "".join(f"{name}: {value}\r\n" for name, value in headers.items()).encode("latin-1")

    def _request(self, path: str, headers: bytes, body: bytes) -> bytes:
        line = self._lines.get(path)
        if line is None:
            line = self._lines[path] = f"POST {self._prefix}{path} HTTP/1.1\r\n".encode("latin-1") + self._host_line
        return b"".join((line, headers, b"Content-Length: %d\r\n\r\n" % len(body), body))

    async def post(
        self, path: str, headers: bytes, body: bytes, *, read_timeout: float
    ) -> tuple[int, dict[str, str], bytes]:
        """The whole answer: status, headers (names in lower case) and body, decoded."""
        conn = await self._checkout()
        exchange = conn.send(self._request(path, headers, body), streamed=False, read_timeout=read_timeout)
        try:
            content = await exchange.collected()
        except asyncio.CancelledError:
            exchange.fail(Disconnected("the caller went away"))
            conn.abort()
            raise
        return exchange.status, exchange.headers, content

    async def open_stream(
        self, path: str, headers: bytes, body: bytes, *, read_timeout: float, head_timeout: float | None = None
    ) -> Http1Stream:
        """The answer once its head has come (within `head_timeout`); its body is read from the stream."""
        conn = await self._checkout()
        exchange = conn.send(self._request(path, headers, body), streamed=True, read_timeout=read_timeout)
        try:
            async with asyncio.timeout(head_timeout):
                await exchange.head
        except BaseException as exc:
            exchange.fail(exc if isinstance(exc, Exception) else Disconnected("the caller went away"))
            conn.abort()
            if isinstance(exc, TimeoutError) and not isinstance(exc, AnswerTimedOut):
                raise AnswerTimedOut("the upstream did not answer in time") from exc
            raise
        return Http1Stream(exchange)

    # -- the pool ---------------------------------------------------------------------------------------

    async def _checkout(self) -> _Connection:
        if self._closed:
            raise ConnectFailed("the upstream client is closed")
        idle = self._idle
        if idle:
            now = self.loop.time()
            while idle:
                conn = idle.pop()  # the most recently used: the least likely to have been dropped
                if conn.closed:
                    continue
                if now - conn.idle_since > self._expiry:
                    conn.abort()
                    continue
                return conn
        while True:
            if self._open < self._max:
                self._open += 1
                try:
                    return await self._connect()
                except BaseException:
                    self._open -= 1
                    self._hand_over(None)
                    raise
            waiter = self.loop.create_future()
            self._waiters.append(waiter)
            try:
                conn = await waiter
            except asyncio.CancelledError:
                if waiter.done() and not waiter.cancelled() and waiter.result() is not None:
                    self.put_back(waiter.result())  # handed over as we were cancelled: pass it on
                raise
            if conn is not None:
                return conn  # None: a slot came free, open a connection in it

    async def _connect(self) -> _Connection:
        try:
            async with asyncio.timeout(self._connect_timeout):
                _, conn = await self.loop.create_connection(
                    lambda: _Connection(self),
                    self._host,
                    self._port,
                    ssl=self._ssl,
                    server_hostname=self._host if self._ssl is not None else None,
                )
        except TimeoutError as exc:
            raise AnswerTimedOut(f"could not connect to {self._host}:{self._port} in time") from exc
        except OSError as exc:  # refused, unreachable, DNS, TLS (ssl.SSLError is an OSError)
            raise ConnectFailed(f"could not connect to {self._host}:{self._port}: {exc}") from exc
        conn.counted = True
        return conn

    def put_back(self, conn: _Connection) -> None:
        if conn.closed:
            return
        if self._closed:
            conn.abort()
            return
        if not self._hand_over(conn):
            conn.idle_since = self.loop.time()
            self._idle.append(conn)

    def lost(self, conn: _Connection) -> None:
        """`conn` is closed: its slot comes free."""
        if not conn.counted:
            return  # its connect failed, and that freed the slot
        conn.counted = False
        self._open -= 1
        try:
            self._idle.remove(conn)
        except ValueError:
            pass
        self._hand_over(None)

    def _hand_over(self, conn: _Connection | None) -> bool:
        """Gives `conn` (None: a free slot) to the first caller still waiting; False when none is."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(conn)
                return True
        return False

    async def aclose(self) -> None:
        self._closed = True
        while self._idle:
            self._idle.pop().abort()
        await asyncio.sleep(0)  # let the transports report their close
