"""Logging that cannot leak a key: a filter masks anything that looks like one, whatever logged it."""

import logging
import re

_SECRET = re.compile(r"(sk-sluice-|sk-or-v1-|sk-)[A-Za-z0-9_\-]{6,}|(?i:bearer\s+)[A-Za-z0-9_\-\.]{8,}")


def _mask(text: str) -> str:
    return _SECRET.sub(lambda m: (m.group(1) or "Bearer ") + "***", text)


class RedactSecrets(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = _mask(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


def configure_logging(level: str, *, access_log: bool = False) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactSecrets())
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
