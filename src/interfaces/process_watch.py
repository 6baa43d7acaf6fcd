"""The process's own gauges, kept fresh between scrapes: what it holds (twice a second) and whether
it is ready (every five seconds, and at once when it starts draining).

A scrape may be served by another worker, or by the metrics port's server in the supervisor
(`sluice serve`), which read this process's values from the multiprocess files: so the values
are pushed on a timer rather than computed when a scrape asks.
"""

import asyncio
import contextlib
import logging
from collections.abc import Callable

from interfaces.draining import DRAIN
from interfaces.http.readiness import Readiness

log = logging.getLogger("sluice")

_REFRESH_SECONDS = 0.5
_READINESS_SECONDS = 5.0


class ProcessWatch:
    def __init__(self) -> None:
        self._task: asyncio.Task[None] | None = None

    def start(self, refresh: Callable[[], None], set_ready: Callable[[bool], None], readiness: Readiness) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(refresh, set_ready, readiness))

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self, refresh: Callable[[], None], set_ready: Callable[[bool], None], readiness: Readiness) -> None:
        loop = asyncio.get_running_loop()
        check_at = loop.time()
        was_draining = False
        while True:
            refresh()
            now = loop.time()
            draining = DRAIN.draining
            if now >= check_at or draining != was_draining:
                check_at = now + _READINESS_SECONDS
                was_draining = draining
                try:
                    set_ready(not await readiness.problems())
                except Exception:
                    log.exception("checking readiness failed")
                    set_ready(False)
            await asyncio.sleep(_REFRESH_SECONDS)
