"""A `Moderator` for use-case tests: flags texts containing a chosen word, and remembers every call."""

from __future__ import annotations

from application.ports.upstream import UpstreamError
from domain.moderation import NOT_FLAGGED, ModerationVerdict


class ScriptedModerator:
    """Flags (as ``category``) any text containing ``trigger``, case-insensitively; ``error`` makes
    every call raise it instead (e.g. ``UpstreamError(503, ...)`` for an unconfigured moderator)."""

    def __init__(self, trigger: str = "kill", category: str = "violence", error: UpstreamError | None = None) -> None:
        self.trigger = trigger.lower()
        self.category = category
        self.error = error
        self.calls: list[list[str]] = []

    async def classify(self, texts: list[str]) -> ModerationVerdict:
        self.calls.append(list(texts))
        if self.error is not None:
            raise self.error
        if not texts:
            return NOT_FLAGGED
        if any(self.trigger in text.lower() for text in texts):
            return ModerationVerdict(True, (self.category,))
        return NOT_FLAGGED
