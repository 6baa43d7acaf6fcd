from collections.abc import Awaitable, Callable


class Readiness:
    """Named probes of the backing services; the composition root fills it in."""

    def __init__(self, probes: dict[str, Callable[[], Awaitable[None]]]) -> None:
        self._probes = probes

    async def problems(self) -> list[str]:
        found = []
        for name, probe in self._probes.items():
            try:
                await probe()
            except Exception as exc:
                found.append(f"{name}: {type(exc).__name__}")
        return found
