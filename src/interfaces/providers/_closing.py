import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger("sluice")


async def close_quietly(close: Callable[[], Awaitable[object]]) -> None:
    """A finalizer that fails is logged, not raised: the container still runs the ones after it,
    and a CLI command that did its work should not end on a traceback about a socket."""
    try:
        await close()
    except Exception:
        log.exception("error while closing")
