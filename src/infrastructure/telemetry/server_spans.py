"""A SERVER span around every HTTP request, in the stable HTTP semantic conventions.

Our own thin ASGI wrapper rather than opentelemetry-instrumentation-asgi's middleware: that one
names spans by the raw path (a model id, an image's unguessable token), records the full URL with
its query (``?key=`` included: only AWS- and GCS-style signatures are redacted), captures headers
when an ``OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_*`` variable says so, and opens a span per
ASGI message; it also costs 2.5 times as much a request, send and receive spans excluded
(benchmarks/tracing_overhead.py; docs/architecture.md, Tracing).

Here: the incoming ``traceparent`` (through the global propagator, so ``OTEL_PROPAGATORS`` holds)
is the parent; the name is ``METHOD route`` with Litestar's route template once the router has
matched (just ``METHOD`` when nothing matched, so a scan adds no names); no header is recorded;
query values are redacted but for a few harmless ones; the span ends with the last body message
(a stream's end), or when the app returns without one.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from opentelemetry import context, propagate, trace
from opentelemetry.propagators.textmap import Getter
from opentelemetry.trace import SpanKind, Status, StatusCode

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_KEPT_QUERY_VALUES = frozenset({"alt", "by", "days", "kind", "page", "limit", "period"})
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "CONNECT", "TRACE"})
# Path parameters that are credentials in themselves: the path is recorded as its template.
_SECRET_PARAMETERS = ("{token",)


class _HeaderGetter(Getter[Scope]):
    """Reads request headers straight off the ASGI scope (the propagators ask for two or three)."""

    def get(self, carrier: Scope, key: str) -> list[str] | None:
        name = key.encode("latin-1")
        found = [value.decode("latin-1") for header, value in carrier["headers"] if header == name]
        return found or None

    def keys(self, carrier: Scope) -> list[str]:
        return [header.decode("latin-1") for header, _ in carrier["headers"]]


_GETTER = _HeaderGetter()


def redacted_query(raw: bytes) -> str:
    """The query string with every value replaced but the harmless ones (``?key=`` is an API key)."""
    parts = []
    for pair in raw.decode("latin-1").split("&"):
        name, equals, value = pair.partition("=")
        if equals and name not in _KEPT_QUERY_VALUES:
            value = "REDACTED"
        parts.append(f"{name}{equals}{value}")
    return "&".join(parts)


def _start_attributes(scope: Scope, method: str) -> dict[str, Any]:
    attributes: dict[str, Any] = {
        "http.request.method": method,
        "url.scheme": scope.get("scheme", "http"),
        "network.protocol.version": scope.get("http_version", "1.1"),
    }
    if method == "_OTHER":
        attributes["http.request.method_original"] = scope["method"]
    query = scope.get("query_string")
    if query:
        attributes["url.query"] = redacted_query(query)
    server = scope.get("server")
    if server:
        attributes["server.address"], attributes["server.port"] = server[0], server[1]
    client = scope.get("client")
    if client:
        attributes["client.address"] = client[0]
    for name, value in scope["headers"]:
        if name == b"user-agent":
            attributes["user_agent.original"] = value.decode("latin-1")
            break
    return attributes


class ServerSpans:
    """`excluded`: paths matching it get no span (``OTEL_PYTHON_EXCLUDED_URLS``, e.g. probes and scrapes).

    `flush` runs (in a thread) when the app has stopped, before the server is told so: a worker
    process is ended soon after, and the spans still queued for export would go with it.
    """

    def __init__(
        self,
        app: ASGIApp,
        tracer: trace.Tracer,
        excluded: re.Pattern[str] | None = None,
        flush: Callable[[], object] | None = None,
    ) -> None:
        self._app = app
        self._tracer = tracer
        self._excluded = excluded
        self._flush = flush

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan" and self._flush is not None:
            await self._app(scope, receive, self._flushing(send))
            return
        if scope["type"] != "http" or (self._excluded is not None and self._excluded.search(scope["path"])):
            await self._app(scope, receive, send)
            return
        method = scope["method"] if scope["method"] in _METHODS else "_OTHER"
        parent = propagate.extract(scope, getter=_GETTER)
        name = "HTTP" if method == "_OTHER" else method
        span = self._tracer.start_span(
            name,
            context=parent,
            kind=SpanKind.SERVER,
            attributes=_start_attributes(scope, method),
        )
        token = context.attach(trace.set_span_in_context(span, parent))
        named = ended = False

        def name_it() -> None:
            nonlocal named
            named = True
            if not span.is_recording():
                return  # not sampled: nothing to name
            route = scope.get("path_template")
            path = scope["path"]
            if route:
                span.update_name(f"{name} {route}")
                span.set_attribute("http.route", route)
                if any(marker in route for marker in _SECRET_PARAMETERS):
                    path = route
            span.set_attribute("url.path", path)

        async def traced_send(message: Message) -> None:
            nonlocal ended
            kind = message["type"]
            if kind == "http.response.start":
                status = message["status"]
                span.set_attribute("http.response.status_code", status)
                if status >= 500:
                    span.set_attribute("error.type", str(status))
                    span.set_status(Status(StatusCode.ERROR))
                if not named:
                    name_it()
            await send(message)
            if kind == "http.response.body" and not message.get("more_body", False) and not ended:
                ended = True
                span.end()

        try:
            await self._app(scope, receive, traced_send)
        except BaseException as exc:
            if not ended:
                span.set_attribute("error.type", type(exc).__qualname__)
                span.set_status(Status(StatusCode.ERROR, type(exc).__qualname__))
            raise
        finally:
            context.detach(token)
            if not ended:
                if not named:
                    name_it()
                span.end()

    def _flushing(self, send: Send) -> Send:
        flush = self._flush
        assert flush is not None

        async def flushing_send(message: Message) -> None:
            if message["type"] in ("lifespan.shutdown.complete", "lifespan.shutdown.failed"):
                await asyncio.to_thread(flush)
            await send(message)

        return flushing_send
