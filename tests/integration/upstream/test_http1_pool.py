"""Http1Pool against a raw loopback server that answers with exactly the bytes each test scripts."""

from __future__ import annotations

import asyncio
import gzip
import socket
from collections.abc import AsyncIterator, Callable

import pytest

from infrastructure.upstream.http1 import AnswerTimedOut, BadAnswer, ConnectFailed, Disconnected, Http1Pool

Answer = Callable[[bytes], bytes | None]  # the request's bytes -> the answer's bytes (None: hang up)


class RawServer:
    """Reads one request (head + Content-Length body) at a time and writes what `answer` returns."""

    def __init__(self) -> None:
        self.answer: Answer = lambda _: ok(b'{"ok":true}')
        self.connections = 0
        self.requests: list[bytes] = []
        self.server: asyncio.Server | None = None
        self.writers: list[asyncio.StreamWriter] = []

    async def start(self) -> str:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self.server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}/api/v1"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.writers.append(writer)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                request = head + await reader.readexactly(length)
                self.requests.append(request)
                answer = self.answer(request)
                if answer is None:
                    break
                writer.write(answer)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def stop(self) -> None:
        assert self.server is not None
        self.server.close()
        for writer in self.writers:
            writer.close()
        await self.server.wait_closed()


def ok(body: bytes, *, headers: bytes = b"", status: bytes = b"200 OK") -> bytes:
    return b"HTTP/1.1 " + status + b"\r\nContent-Type: application/json\r\nContent-Length: %d\r\n%s\r\n%s" % (
        len(body), headers, body,
    )  # fmt: skip


def chunked(*parts: bytes) -> bytes:
    body = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in parts) + b"0\r\n\r\n"
    return b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n" + body


@pytest.fixture
async def server() -> AsyncIterator[RawServer]:
    raw = RawServer()
    await raw.start()
    yield raw
    await raw.stop()


@pytest.fixture
async def pool(server: RawServer) -> AsyncIterator[Http1Pool]:
    assert server.server is not None
    port = server.server.sockets[0].getsockname()[1]
    client = Http1Pool(f"http://127.0.0.1:{port}/api/v1", max_connections=4, keepalive_expiry=0.5)
    yield client
    await client.aclose()


HEADERS = Http1Pool.header_block({"Authorization": "Bearer sk-test", "Content-Type": "application/json"})


async def test_the_request_goes_out_as_http_1_1_with_its_body_and_the_answer_comes_back(
    server: RawServer, pool: Http1Pool
) -> None:
    status, headers, body = await pool.post("/chat/completions", HEADERS, b'{"a":1}', read_timeout=5)

    assert (status, headers["content-type"], body) == (200, "application/json", b'{"ok":true}')
    request = server.requests[0]
    assert request.startswith(b"POST /api/v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:")
    assert b"\r\nAuthorization: Bearer sk-test\r\n" in request
    assert request.endswith(b'Content-Length: 7\r\n\r\n{"a":1}')


async def test_a_connection_is_kept_and_reused_until_it_has_been_idle_too_long(
    server: RawServer, pool: Http1Pool
) -> None:
    for _ in range(5):
        await pool.post("/x", HEADERS, b"{}", read_timeout=5)
    assert server.connections == 1
    await asyncio.sleep(0.6)  # past keepalive_expiry
    await pool.post("/x", HEADERS, b"{}", read_timeout=5)
    assert server.connections == 2


async def test_calls_beyond_the_connection_limit_wait_for_a_free_connection(server: RawServer, pool: Http1Pool) -> None:
    results = await asyncio.gather(*(pool.post("/x", HEADERS, b"{}", read_timeout=5) for _ in range(20)))

    assert [status for status, _, _ in results] == [200] * 20
    assert server.connections <= 4


async def test_gzip_and_chunked_and_close_delimited_bodies_are_read_whole(server: RawServer, pool: Http1Pool) -> None:
    packed = gzip.compress(b'{"zipped":true}')
    server.answer = lambda _: ok(packed, headers=b"Content-Encoding: gzip\r\n")
    assert (await pool.post("/x", HEADERS, b"{}", read_timeout=5))[2] == b'{"zipped":true}'

    server.answer = lambda _: chunked(b'{"chun', b'ked":1}')
    assert (await pool.post("/x", HEADERS, b"{}", read_timeout=5))[2] == b'{"chunked":1}'

    holder: dict[str, int] = {}

    def close_after(request: bytes) -> bytes | None:
        holder["n"] = holder.get("n", 0) + 1
        return None if holder["n"] > 1 else b'HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n{"till":"close"}'

    server.answer = close_after
    task = asyncio.ensure_future(pool.post("/x", HEADERS, b"{}", read_timeout=5))
    await asyncio.sleep(0.05)
    for writer in server.writers:
        writer.close()  # the body ends where the connection does
    assert (await task)[2] == b'{"till":"close"}'


async def test_a_stream_is_read_as_it_comes_and_its_connection_goes_back_at_its_end(
    server: RawServer, pool: Http1Pool
) -> None:
    server.answer = lambda _: chunked(b"data: 1\n\n", b"data: 2\n\n", b"data: [DONE]\n\n")
    stream = await pool.open_stream("/chat/completions", HEADERS, b"{}", read_timeout=5)
    assert (stream.status, stream.headers["content-type"]) == (200, "text/event-stream")

    assert b"".join([part async for part in stream]) == b"data: 1\n\ndata: 2\n\ndata: [DONE]\n\n"
    await pool.post("/x", HEADERS, b"{}", read_timeout=5)
    assert server.connections == 1


async def test_a_reader_that_falls_behind_holds_the_upstream_back(server: RawServer, pool: Http1Pool) -> None:
    frames = [b"data: " + b"x" * 8000 + b"\n\n" for _ in range(400)]  # 3.2 MB in all
    server.answer = lambda _: chunked(*frames)
    stream = await pool.open_stream("/chat/completions", HEADERS, b"{}", read_timeout=5)
    await asyncio.sleep(0.3)  # the server writes as fast as it can; we read nothing

    exchange = stream._exchange
    assert exchange.paused
    assert exchange.queued < 1024 * 1024  # held back near 256 KiB, not the whole 3.2 MB
    received = b"".join([part async for part in stream])
    assert received == b"".join(frames)


async def test_closing_a_stream_midway_hangs_up_and_the_next_call_gets_a_fresh_connection(
    server: RawServer, pool: Http1Pool
) -> None:
    server.answer = lambda _: (
        b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n9\r\ndata: 1\n\n\r\n"
    )  # and then nothing: the stream stays open
    stream = await pool.open_stream("/chat/completions", HEADERS, b"{}", read_timeout=5)
    assert await stream.__anext__() == b"data: 1\n\n"
    stream.close()

    server.answer = lambda _: ok(b"{}")
    await pool.post("/x", HEADERS, b"{}", read_timeout=5)
    assert server.connections == 2


async def test_silence_longer_than_the_read_timeout_fails_with_a_timeout(server: RawServer, pool: Http1Pool) -> None:
    server.answer = lambda _: b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{"  # the rest never comes
    with pytest.raises(AnswerTimedOut):
        await pool.post("/x", HEADERS, b"{}", read_timeout=0.2)

    server.answer = lambda _: b""  # no head at all
    with pytest.raises(AnswerTimedOut):
        await pool.open_stream("/x", HEADERS, b"{}", read_timeout=5, head_timeout=0.2)


async def test_a_hang_up_garbage_and_a_closed_port_are_told_apart(server: RawServer, pool: Http1Pool) -> None:
    server.answer = lambda _: None
    with pytest.raises(Disconnected):
        await pool.post("/x", HEADERS, b"{}", read_timeout=5)

    server.answer = lambda _: b"SMTP ready\r\n\r\n"
    with pytest.raises(BadAnswer):
        await pool.post("/x", HEADERS, b"{}", read_timeout=5)

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    closed = Http1Pool(f"http://127.0.0.1:{port}/api/v1")
    with pytest.raises(ConnectFailed):
        await closed.post("/x", HEADERS, b"{}", read_timeout=5)


async def test_a_caller_that_goes_away_frees_its_connection_slot(server: RawServer, pool: Http1Pool) -> None:
    server.answer = lambda _: b""  # never answers
    calls = [asyncio.ensure_future(pool.post("/x", HEADERS, b"{}", read_timeout=30)) for _ in range(4)]
    await asyncio.sleep(0.1)
    for call in calls:
        call.cancel()
    await asyncio.gather(*calls, return_exceptions=True)
    await asyncio.sleep(0.05)

    server.answer = lambda _: ok(b"{}")
    status, _, _ = await asyncio.wait_for(pool.post("/x", HEADERS, b"{}", read_timeout=5), 2)
    assert status == 200


def test_a_header_with_a_line_break_is_refused() -> None:
    with pytest.raises(ValueError):
        Http1Pool.header_block({"X-Title": "evil\r\nInjected: 1"})


def _self_signed(tmp_path) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """A certificate for 127.0.0.1 and its key, as PEM files."""
    import datetime as dt
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return str(cert_path), str(key_path)


async def test_https_upstreams_are_reached_over_tls_and_an_untrusted_certificate_is_refused(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import ssl

    cert, key = _self_signed(tmp_path)
    served = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    served.load_cert_chain(cert, key)
    raw = RawServer()
    raw.server = await asyncio.start_server(raw._serve, "127.0.0.1", 0, ssl=served)
    port = raw.server.sockets[0].getsockname()[1]
    try:
        trusting = ssl.create_default_context(cafile=cert)
        pool = Http1Pool(f"https://127.0.0.1:{port}/api/v1", ssl_context=trusting)
        status, _, body = await pool.post("/chat/completions", HEADERS, b"{}", read_timeout=5)
        assert (status, body) == (200, b'{"ok":true}')
        assert raw.requests[0].startswith(b"POST /api/v1/chat/completions HTTP/1.1\r\n")
        await pool.aclose()

        doubting = Http1Pool(f"https://127.0.0.1:{port}/api/v1")  # the system's trust store
        with pytest.raises(ConnectFailed):
            await doubting.post("/chat/completions", HEADERS, b"{}", read_timeout=5)
        await doubting.aclose()
    finally:
        await raw.stop()
