"""Logging that cannot leak a secret: every line is masked as a whole once formatted, traceback included.

Lines are JSON by default (``SLUICE_LOG_FORMAT=json``: one object per line, what a log shipper
wants), or ``text`` for a terminal. A record's structured ``fields`` (the request log's) become
keys of the object; with tracing on, every line made inside a span names its trace and span.

Masked: gateway keys (``sk-sluice-...``), OpenRouter and other ``sk-`` keys, bearer tokens, and the
password of any URL with credentials (``postgresql://user:***@host``, ``redis://:***@host``). The
mask runs on the formatter's output, so an exception message, a traceback's source lines and
``stack_info`` are covered as well as the message.
"""

import logging
import re
import time

import msgspec

_SECRET = re.compile(
    r"(sk-sluice-|sk-or-v1-|sk-)[A-Za-z0-9_\-]{6,}(?![A-Za-z0-9_\-*])"
    r"|(?i:(bearer\s+))[A-Za-z0-9_\-\.~+/=]{8,}"
    r"|([A-Za-z][A-Za-z0-9+.\-]*://[^\s:/@]*:)[^\s/@]+@"
)
_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def _replacement(match: re.Match[str]) -> str:
    key_prefix, bearer, url_user = match.group(1, 2, 3)
    if url_user is not None:
        return url_user + "***@"
    return (key_prefix or bearer) + "***"


def mask_secrets(text: str) -> str:
    """Idempotent: a masked text masks to itself."""
    # Most lines hold none of the three markers: a lowered copy and three scans are ~20x cheaper
    # than the pattern's own scan (which tries a URL scheme at every position).
    lowered = text.lower()
    if "sk-" not in lowered and "://" not in lowered and "bearer" not in lowered:
        return text
    return _SECRET.sub(_replacement, text)


class MaskingFormatter(logging.Formatter):
    """Formats as usual, then masks the whole text (message, exception, traceback and stack info)."""

    def format(self, record: logging.LogRecord) -> str:
        return mask_secrets(super().format(record))


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, the record's fields, its exception."""

    def __init__(self, *, with_trace: bool = False) -> None:
        super().__init__()
        self._with_trace = with_trace

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": _timestamp(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if fields:
            line.update(fields)
        if self._with_trace:
            line.update(_trace_ids())
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return mask_secrets(msgspec.json.encode(line).decode())


class TextFormatter(MaskingFormatter):
    """The classic line, with a record's fields appended as key=value."""

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        fields = getattr(record, "fields", None)
        if not fields:
            return text
        pairs = " ".join(f"{k}={v}" for k, v in fields.items() if v is not None)
        return mask_secrets(f"{text} {pairs}")


def _timestamp(created: float) -> str:
    seconds = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(created))
    return f"{seconds}.{int(created % 1 * 1000):03d}Z"


def _trace_ids() -> dict[str, str]:
    from opentelemetry import trace

    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return {}
    return {"trace_id": format(context.trace_id, "032x"), "span_id": format(context.span_id, "016x")}


def configure_logging(level: str, *, fmt: str = "json", with_trace: bool = False) -> None:
    """The request log (``sluice.request``, `infrastructure/telemetry/request_report.py`) replaced
    uvicorn's access line, which is always off."""
    # No line shows the thread or process names: not looking them up saves a few µs a record.
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    handler = logging.StreamHandler()
    formatter = JsonFormatter(with_trace=with_trace) if fmt == "json" else TextFormatter(_FORMAT)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "litestar", "httpx", "sqlalchemy"):
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True
    # Our request line carries the request id, account and cost; uvicorn's would repeat it poorly.
    logging.getLogger("uvicorn.access").disabled = True
    # httpx logs every request at INFO: a log line per proxied call costs more than the proxying.
    for name in ("httpx", "httpcore", "aiohttp.access"):
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
