"""Waiting for what a gateway does within a cache's lifetime (a ban, a revocation, a usage flush)."""

import time
from collections.abc import Callable


def eventually(condition: Callable[[], bool], seconds: float = 10.0, what: str = "the condition") -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not hold within {seconds:g} s")
        time.sleep(0.05)
