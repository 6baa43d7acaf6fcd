from typing import Protocol


class Telemetry(Protocol):
    """The metrics page. What is counted is told by the edge's request report and the adapters'
    hooks (infrastructure/telemetry), not through this port: the use cases count nothing."""

    def exposition(self) -> tuple[bytes, str] | None:
        """The metrics page body and its content type; None when it is served on a port of its own."""
        ...
