from collections.abc import Awaitable, Callable

Probe = Callable[[], Awaitable[None]]


class Readiness:
    """Named probes of the backing services; the composition root fills it in."""

    def __init__(self, probes: dict[str, Probe]) -> None:
        self._probes = probes

    def with_probe(self, name: str, probe: Probe) -> "Readiness":
        return Readiness({**self._probes, name: probe})

    async def problems(self) -> list[str]:
        found = []
        for name, probe in self._probes.items():
            try:
                await probe()
            except Exception as exc:
                found.append(f"{name}: {type(exc).__name__}")
        return found
