"""A streamed response that stops when the client goes away, without anyio's task group.

Litestar's `Stream` runs its body in an anyio task group beside a listener for the disconnect;
that machinery (a cancel scope, a task group, a partial) cost about as much as relaying the
stream's frames themselves. Here the body is sent from the request's own task, and one plain
asyncio task waits for the disconnect and cancels that task if it comes first. The generator
being relayed is closed either way, which is what settles a stream cut short.
"""

import asyncio
from collections.abc import AsyncIterator, Iterable
from typing import Any

from litestar import Request
from litestar.response import Stream
from litestar.response.base import ASGIResponse
from litestar.response.streaming import ASGIStreamingResponse
from litestar.types import Receive, Send


class LastPart(bytes):
    """The body's last part: it goes out with the end of the response, in one write, not two."""

    __slots__ = ()


class _EventStreamBody(ASGIStreamingResponse):
    __slots__ = ()

    async def send_body(self, send: Send, receive: Receive) -> None:
        task = asyncio.current_task()
        assert task is not None
        ended = False  # the end is being sent: from here on the relay runs to its own end

        def on_disconnect(done: asyncio.Future[None]) -> None:
            if not done.cancelled() and not ended:
                task.cancel()

        watcher = asyncio.ensure_future(_disconnect(receive))
        watcher.add_done_callback(on_disconnect)
        iterator: AsyncIterator[bytes] = self.iterator  # type: ignore[assignment]
        try:
            async for chunk in iterator:
                if ended:
                    continue  # nothing goes after the end; the iterator still runs to its own end
                ended = chunk.__class__ is LastPart
                await send({"type": "http.response.body", "body": chunk, "more_body": not ended})
            if not ended:
                ended = True
                await send({"type": "http.response.body", "body": b"", "more_body": False})
        except asyncio.CancelledError:
            if watcher.cancelled() or not watcher.done() or task.cancelling() > 1:
                raise  # cancelled from outside (shutdown), not (only) by the client leaving
            task.uncancel()  # the client left: what was relayed is what it got; the response is over
        finally:
            if not watcher.done():
                watcher.cancel()
            close = getattr(iterator, "aclose", None)
            if close is not None:
                await close()


async def _disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


class EventStream(Stream):
    """`Stream` for server-sent events and other streamed bodies of bytes."""

    def to_asgi_response(  # type: ignore[override]
        self,
        app: Any,
        request: Request,
        *,
        encoded_headers: Iterable[tuple[bytes, bytes]] | None = None,
        headers: dict[str, str] | None = None,
        is_head_response: bool = False,
        **_: Any,
    ) -> ASGIResponse:
        return _EventStreamBody(
            background=self.background,
            content_length=0,
            cookies=self.cookies,
            encoded_headers=encoded_headers,
            encoding=self.encoding,
            headers={**headers, **self.headers} if headers is not None else self.headers,
            is_head_response=is_head_response,
            iterator=self.iterator,  # type: ignore[arg-type]
            media_type=self.media_type,
            status_code=self.status_code,
        )
