"""The one line `sluice serve` logs before it starts: what it will talk to, with no secret in it."""

from urllib.parse import urlsplit, urlunsplit

from interfaces.settings import Settings


def mask_url(url: str) -> str:
    """The URL with any password replaced by `***` (the user name stays: it helps, and is no secret)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rpartition("@")[2]
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


def startup_line(settings: Settings) -> str:
    limiter = mask_url(settings.redis_url) if settings.redis_url else "in-process"
    return (
        f"sluice starting: upstream {mask_url(settings.upstream_url)}, database {mask_url(settings.database_url)}, "
        f"limiter {limiter}, listening on http://{settings.host}:{settings.port}, workers {settings.workers}"
    )
