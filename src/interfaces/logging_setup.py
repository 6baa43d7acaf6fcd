"""Logging that cannot leak a secret: every line is masked as a whole once formatted, traceback included.

Masked: gateway keys (``sk-sluice-...``), OpenRouter and other ``sk-`` keys, bearer tokens, and the
password of any URL with credentials (``postgresql://user:***@host``, ``redis://:***@host``). The
mask runs on the formatter's output, so an exception message, a traceback's source lines and
``stack_info`` are covered as well as the message.
"""

import logging
import re

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
    return _SECRET.sub(_replacement, text)


class MaskingFormatter(logging.Formatter):
    """Formats as usual, then masks the whole text (message, exception, traceback and stack info)."""

    def format(self, record: logging.LogRecord) -> str:
        return mask_secrets(super().format(record))


def configure_logging(level: str, *, access_log: bool = False) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(MaskingFormatter(_FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "litestar", "httpx", "sqlalchemy"):
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True
    if not access_log:
        logging.getLogger("uvicorn.access").disabled = True
    # httpx logs every request at INFO: a log line per proxied call costs more than the proxying.
    for name in ("httpx", "httpcore", "aiohttp.access"):
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
