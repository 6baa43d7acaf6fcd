"""`Moderator` over an OpenAI-compatible ``/moderations`` endpoint (OpenAI's own by default).

OpenRouter has none, so this runs on a second `OpenRouterUpstream` pointed at the moderation URL
(or an `UnconfiguredUpstream`, whose 503 names the setting to fill in). All texts go in one call,
``{"model": "omni-moderation-latest", "input": [...]}``; the verdict is flagged if any result is.
"""

import msgspec

from application.ports.upstream import Upstream, UpstreamError
from domain.moderation import NOT_FLAGGED, ModerationVerdict, combine

DEFAULT_MODERATION_MODEL = "omni-moderation-latest"


class _Result(msgspec.Struct):
    flagged: bool
    categories: dict[str, bool | None] = {}


class _Answer(msgspec.Struct):
    results: list[_Result]


_decode = msgspec.json.Decoder(_Answer).decode
_encode = msgspec.json.encode


class OpenAIModerator:
    def __init__(self, upstream: Upstream, model: str = DEFAULT_MODERATION_MODEL) -> None:
        self._upstream = upstream
        self._model = model

    async def classify(self, texts: list[str]) -> ModerationVerdict:
        if not texts:
            return NOT_FLAGGED
        reply = await self._upstream.complete("/moderations", _encode({"model": self._model, "input": texts}))
        try:
            answer = _decode(reply.body)
        except (msgspec.DecodeError, RecursionError):
            raise UpstreamError(
                502, "The moderation upstream's answer has no readable results", "protocol", reply.body
            ) from None
        if len(answer.results) != len(texts):
            raise UpstreamError(
                502,
                f"The moderation upstream classified {len(answer.results)} of {len(texts)} texts",
                "protocol",
                reply.body,
            )
        return combine(
            ModerationVerdict(result.flagged, tuple(name for name, hit in result.categories.items() if hit))
            for result in answer.results
        )
