"""Whether this process should be sent traffic: its backing services answer, and it is not draining."""

from collections.abc import Awaitable, Callable

Probe = Callable[[], Awaitable[None]]


class NotReady(Exception):
    """A probe's own words for what is missing (any other exception is named by its type)."""


class Readiness:
    """Named probes of the backing services; the composition root fills it in."""

    def __init__(self, probes: dict[str, Probe], draining: Callable[[], bool] = lambda: False) -> None:
        self._probes = probes
        self._draining = draining

    def with_probe(self, name: str, probe: Probe) -> "Readiness":
        return Readiness({**self._probes, name: probe}, self._draining)

    def with_draining(self, draining: Callable[[], bool]) -> "Readiness":
        return Readiness(self._probes, draining)

    async def problems(self) -> list[str]:
        # Draining first, and alone: a process on its way out is not ready whatever its services say.
        if self._draining():
            return ["draining: this process is shutting down"]
        found = []
        for name, probe in self._probes.items():
            try:
                await probe()
            except NotReady as exc:
                found.append(f"{name}: {exc}")
            except Exception as exc:
                found.append(f"{name}: {type(exc).__name__}")
        return found
