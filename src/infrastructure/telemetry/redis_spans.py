"""CLIENT spans for Redis commands, in the database semantic conventions (``db.system.name=redis``).

Named ``redis <COMMAND>`` (``redis EVALSHA``, ``redis MULTI`` for a transaction's pipeline), and
made only inside a recording span: a command outside any request (a spend batch's flush, the
readiness watch's PING) makes none. The command's arguments are never recorded: they are keys and
script arguments, not worth their cost, and a key may name an account.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode

T = TypeVar("T")


class RedisSpans:
    """Where the spans of one Redis server (and database number) come from."""

    __slots__ = ("_attributes", "_tracer")

    def __init__(self, tracer: trace.Tracer, host: str, port: int, db: int) -> None:
        self._tracer = tracer
        self._attributes = {
            "db.system.name": "redis",
            "db.namespace": str(db),
            "server.address": host,
            "server.port": port,
        }

    async def around(self, operation: str, run: Callable[[], Awaitable[T]], batch: int | None = None) -> T:
        if not trace.get_current_span().is_recording():
            return await run()  # outside a request (or not sampled): no span of its own
        attributes: dict[str, Any] = {**self._attributes, "db.operation.name": operation}
        if batch is not None:
            attributes["db.operation.batch.size"] = batch
        span = self._tracer.start_span(f"redis {operation}", kind=SpanKind.CLIENT, attributes=attributes)
        try:
            with trace.use_span(span, end_on_exit=False, record_exception=False, set_status_on_exception=False):
                return await run()
        except BaseException as exc:
            kind = _error_type(exc)
            span.set_attribute("error.type", kind)
            span.set_status(Status(StatusCode.ERROR, kind))
            raise
        finally:
            span.end()


def _error_type(exc: BaseException) -> str:
    """An error reply's code (NOSCRIPT, OOM, NOAUTH, ...), else the exception's class."""
    text = str(exc)
    code = text.split(" ", 1)[0]
    if code.isupper() and code.isalpha() and type(exc).__name__ in ("RespError", "ResponseError", "NoScriptError"):
        return code
    return type(exc).__qualname__
