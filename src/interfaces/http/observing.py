"""Every request observed once, at the outermost edge: whatever answers it (a route, an exception
handler, the router's 404, a body-size 413), its status is seen here and counted.

A pure ASGI wrapper rather than a Litestar middleware: it sees the response head as it leaves
(the status, and the moment, for the latency histograms) and the end of a streamed body, and it
costs one function call per message. It gives every response an ``X-Request-Id``: the admitted
request's, which the usage record keeps, or a fresh one for a request refused before admission.
"""

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, Protocol

from application import observation
from application.metering import RequestIds
from interfaces.http.request_kind import classify

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_REQUEST_ID = b"x-request-id"


class RequestReporter(Protocol):
    """What the edge tells the metrics and the request log (implemented in infrastructure)."""

    def report(self, obs: observation.Observation) -> None: ...
    def request_started(self) -> None: ...
    def request_ended(self) -> None: ...
    def stream_opened(self) -> None: ...
    def stream_closed(self) -> None: ...


class _Unreported:
    """Until the app has started (no request is served before then)."""

    def report(self, obs: observation.Observation) -> None: ...
    def request_started(self) -> None: ...
    def request_ended(self) -> None: ...
    def stream_opened(self) -> None: ...
    def stream_closed(self) -> None: ...


class ObservingMiddleware:
    def __init__(self, app: ASGIApp, reporter: RequestReporter | None = None, *, keep_content: bool = False) -> None:
        self._app = app
        self._reporter: RequestReporter = reporter or _Unreported()
        self._ids = RequestIds()
        self._keep_content = keep_content

    def use(self, reporter: RequestReporter) -> None:
        self._reporter = reporter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        family, endpoint = classify(scope["path"])
        reporter = self._reporter
        obs = observation.Observation(family, endpoint, self._ids.next(), reporter.report)
        obs.method, obs.path = scope["method"], scope["path"]  # never the query: it may hold ?key=
        streaming = False

        async def observed_send(message: Message) -> None:
            nonlocal streaming
            if message["type"] == "http.response.start":
                headers = message.setdefault("headers", [])
                if not any(name.lower() == _REQUEST_ID for name, _ in headers):
                    # The admitted request's id when there was one: the usage record keeps it.
                    headers.append((_REQUEST_ID, obs.request_id.encode()))
                obs.head_sent(message["status"])
                if obs.streamed and obs.status == 200:
                    streaming = True
                    reporter.stream_opened()
            await send(message)

        if self._keep_content:
            receive = _keeping(receive, obs)
        token = observation.begin(obs)
        reporter.request_started()
        try:
            await self._app(scope, receive, observed_send)
        finally:
            observation.end(token)
            reporter.request_ended()
            if streaming:
                reporter.stream_closed()
            obs.finished()


def _keeping(receive: Receive, obs: observation.Observation) -> Receive:
    """Keeps the request body for the request log (only when an operator turned content logging on)."""

    async def keeping() -> Message:
        message = await receive()
        if message["type"] == "http.request":
            obs.content = (obs.content or b"") + message.get("body", b"")
        return message

    return keeping
