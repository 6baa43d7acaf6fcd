"""Draining: after SIGTERM a process says it is not ready, and (optionally) keeps serving a while.

A load balancer or Kubernetes' endpoints controller needs a moment to stop sending new requests
to a process that is going away; until it has, requests still arrive. So the first SIGTERM only
marks the process draining (``/readyz`` answers 503 "draining", ``sluice_ready`` drops to 0) and
hands the signal to the server after ``SLUICE_DRAIN_SECONDS`` (default 0: at once); the server
then stops accepting and waits for what it accepted, as before. A second SIGTERM, or SIGINT,
stops at once.

The server (uvicorn) installs its signal handlers before the app starts, so the app's start
wraps the SIGTERM handler it finds; a process without one (tests driving the app in-process)
is left alone.
"""

import asyncio
import logging
import signal
import threading
from types import FrameType

log = logging.getLogger("sluice")


class Drain:
    def __init__(self, seconds: float = 0.0) -> None:
        self.seconds = seconds
        self.draining = False

    def is_draining(self) -> bool:
        return self.draining

    def install(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        previous = signal.getsignal(signal.SIGTERM)
        if not callable(previous):
            return
        loop = asyncio.get_running_loop()

        def on_term(sig: int, frame: FrameType | None) -> None:
            if self.draining or self.seconds <= 0:
                self.draining = True
                previous(sig, frame)
                return
            self.draining = True
            log.info("SIGTERM: draining for %gs before shutting down", self.seconds)
            # The handler runs between two bytecodes of whatever the loop was doing: only the
            # thread-safe call may touch the loop from here.
            loop.call_soon_threadsafe(loop.call_later, self.seconds, previous, sig, None)

        signal.signal(signal.SIGTERM, on_term)


DRAIN = Drain()  # one per process, as the signal it answers is
