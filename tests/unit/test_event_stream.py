"""EventStream: a client that leaves stops the relay; the end of a stream, once being sent, is not cut."""

import asyncio
from collections.abc import AsyncIterator

from interfaces.http.event_stream import LastPart, _EventStreamBody


def body(iterator: AsyncIterator[bytes]) -> _EventStreamBody:
    return _EventStreamBody(iterator=iterator, media_type="text/event-stream", status_code=200)


async def test_a_client_that_leaves_mid_stream_closes_the_relay() -> None:
    closed = asyncio.Event()

    async def relay() -> AsyncIterator[bytes]:
        try:
            yield b"data: 1\n\n"
            await asyncio.sleep(10)  # the upstream is slow; the client leaves meanwhile
            yield b"data: 2\n\n"
        finally:
            closed.set()

    sent: list[dict] = []
    disconnect = asyncio.Event()

    async def send(message: dict) -> None:
        sent.append(message)
        disconnect.set()

    async def receive() -> dict:
        await disconnect.wait()
        return {"type": "http.disconnect"}

    await asyncio.wait_for(body(relay()).send_body(send, receive), 2)  # type: ignore[arg-type]

    assert closed.is_set()
    assert [m["body"] for m in sent] == [b"data: 1\n\n"]


async def test_a_disconnect_while_the_last_part_is_sent_lets_the_relay_finish() -> None:
    finished = []

    async def relay() -> AsyncIterator[bytes]:
        yield b"data: 1\n\n"
        yield LastPart(b"data: [DONE]\n\n")
        finished.append(True)  # the relay's own end: where a stream is settled as complete

    sent: list[dict] = []
    gone = asyncio.Event()

    async def send(message: dict) -> None:
        sent.append(message)
        if not message["more_body"]:
            gone.set()
            await asyncio.sleep(0.05)  # a full socket buffer: the write waits, the client hangs up

    async def receive() -> dict:
        await gone.wait()
        return {"type": "http.disconnect"}

    await body(relay()).send_body(send, receive)  # type: ignore[arg-type]

    assert finished == [True]
    assert [(m["body"], m["more_body"]) for m in sent] == [(b"data: 1\n\n", True), (b"data: [DONE]\n\n", False)]
