"""The Gemini API (``/v1beta/models/{model}:generateContent`` and friends) as pure translation.

No HTTP framework here: routes feed these functions bytes and send what they return.

- ``translate_request(model, body, *, stream) -> UpstreamChat``: Gemini request -> OpenAI chat body.
- ``translate_reply(openai_body, *, model, include_thoughts) -> bytes``: chat completion -> Gemini answer.
- ``StreamTranslator(model, include_thoughts)``: ``feed(data) -> list[bytes]``, ``finish() -> list[bytes]``;
  frame with ``sse_event`` (``?alt=sse``) or ``JsonArrayFramer`` (the JSON-array stream).
- ``count_tokens(body) -> bytes``; ``translate_models`` / ``translate_model`` for the listing.
- ``gemini_error_body(http_status, message) -> bytes``; ``GeminiRequestError`` (400 INVALID_ARGUMENT)
  for bad input, ``UpstreamReplyError`` for an upstream answer that is not a JSON object.
"""

from .errors import gemini_error_body, google_status
from .models import model_id, translate_model, translate_models
from .request import GeminiRequestError, UpstreamChat, translate_request
from .response import UpstreamReplyError, translate_reply
from .stream import JsonArrayFramer, StreamTranslator, sse_event
from .tokens import count_tokens

__all__ = [
    "GeminiRequestError",
    "JsonArrayFramer",
    "StreamTranslator",
    "UpstreamChat",
    "UpstreamReplyError",
    "count_tokens",
    "gemini_error_body",
    "google_status",
    "model_id",
    "sse_event",
    "translate_model",
    "translate_models",
    "translate_reply",
    "translate_request",
]
