from typing import Protocol

from application.ports.upstream import Upstream
from domain.moderation import ModerationVerdict


class ModerationUpstream(Upstream, Protocol):
    """The OpenAI-compatible server that classifies input (OpenAI's by default): OpenRouter has none."""


class Moderator(Protocol):
    async def classify(self, texts: list[str]) -> ModerationVerdict:
        """One verdict for all the texts: flagged if any is. No texts is NOT_FLAGGED, with no call.

        Raises `application.ports.upstream.UpstreamError` when the classifier cannot answer
        (503 when none is configured).
        """
        ...
