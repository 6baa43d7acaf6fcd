"""An OpenAI chat completion -> a Gemini ``GenerateContentResponse``.

Per choice, the parts are: the reasoning text as ``{"text", "thought": true}`` (only when the request
asked for thoughts), the content text, the generated images (``message.images``) as ``inlineData``,
then one ``functionCall`` per tool call. ``reasoning_details`` entries that must come back on the next
turn ride on the parts as ``thoughtSignature`` (see ``signatures.py``): on the functionCall of the same
id, else on the first functionCall, else on the last text part (an empty text part when there is none).

Finish reasons: stop -> STOP, length -> MAX_TOKENS, content_filter -> SAFETY, tool_calls and
function_call -> STOP (Gemini ends a function-calling turn with STOP), error -> OTHER, any other
string -> OTHER, none at all -> FINISH_REASON_UNSPECIFIED (omitted on stream chunks that are not the
last). An upstream ``native_finish_reason`` that is already a Gemini name (OpenRouter passes Google's
own: RECITATION, MALFORMED_FUNCTION_CALL...) is used as it is. Tool-call arguments that are not a
JSON object give ``args: {}`` and MALFORMED_FUNCTION_CALL, Gemini's own reason for that case.

Usage: promptTokenCount = prompt_tokens; candidatesTokenCount = completion_tokens - reasoning_tokens
(Gemini counts thoughts apart); thoughtsTokenCount = reasoning_tokens (when not 0);
cachedContentTokenCount = prompt_tokens_details.cached_tokens (when not 0); totalTokenCount = total_tokens.
"""

from __future__ import annotations

from typing import Any

import msgspec

from .signatures import encode_signature, place_details

_decode = msgspec.json.decode
_encode = msgspec.json.encode


class UpstreamReplyError(ValueError):
    """The upstream's answer is not a chat completion we can read (not JSON, not an object)."""


FINISH_REASONS = {
    "stop": "STOP",
    "length": "MAX_TOKENS",
    "content_filter": "SAFETY",
    "tool_calls": "STOP",
    "function_call": "STOP",
    "error": "OTHER",
}
GEMINI_FINISH_REASONS = frozenset(
    {
        "STOP",
        "MAX_TOKENS",
        "SAFETY",
        "RECITATION",
        "LANGUAGE",
        "OTHER",
        "BLOCKLIST",
        "PROHIBITED_CONTENT",
        "SPII",
        "MALFORMED_FUNCTION_CALL",
        "IMAGE_SAFETY",
        "IMAGE_PROHIBITED_CONTENT",
        "IMAGE_OTHER",
        "NO_IMAGE",
        "IMAGE_RECITATION",
        "UNEXPECTED_TOOL_CALL",
        "TOO_MANY_TOOL_CALLS",
        "MISSING_THOUGHT_SIGNATURE",
    }
)
MALFORMED_CALL = "MALFORMED_FUNCTION_CALL"


def finish_reason(reason: Any, native: Any = None) -> str | None:
    """The Gemini finishReason for an OpenAI finish_reason; None when the choice has not finished."""
    if isinstance(native, str) and native in GEMINI_FINISH_REASONS:
        return native
    if reason is None:
        return None
    return FINISH_REASONS.get(reason, "OTHER") if isinstance(reason, str) else "OTHER"


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def usage_metadata(usage: Any) -> dict[str, int] | None:
    if not isinstance(usage, dict):
        return None
    prompt = _count(usage.get("prompt_tokens"))
    completion = _count(usage.get("completion_tokens"))
    details = usage.get("completion_tokens_details")
    thoughts = _count(details.get("reasoning_tokens")) if isinstance(details, dict) else 0
    total = _count(usage.get("total_tokens")) or prompt + completion
    meta = {
        "promptTokenCount": prompt,
        "candidatesTokenCount": max(completion - thoughts, 0),
        "totalTokenCount": total,
    }
    if thoughts:
        meta["thoughtsTokenCount"] = thoughts
    prompt_details = usage.get("prompt_tokens_details")
    cached = _count(prompt_details.get("cached_tokens")) if isinstance(prompt_details, dict) else 0
    if cached:
        meta["cachedContentTokenCount"] = cached
    return meta


def function_call_part(call_id: Any, name: Any, arguments: Any) -> tuple[dict[str, Any], bool]:
    """A functionCall part, and whether its arguments were malformed (not a JSON object)."""
    malformed = False
    args: Any = {}
    if isinstance(arguments, dict):
        args = arguments
    elif isinstance(arguments, str) and arguments.strip():
        try:
            args = _decode(arguments)
        except (msgspec.DecodeError, RecursionError):
            args = None
        if not isinstance(args, dict):
            args, malformed = {}, True
    elif arguments is not None and arguments != "":
        malformed = True
    call: dict[str, Any] = {"name": name if isinstance(name, str) else "", "args": args}
    if isinstance(call_id, str) and call_id:
        call["id"] = call_id
    return {"functionCall": call}, malformed


def image_part(image: Any) -> dict[str, Any] | None:
    """``{"type": "image_url", "image_url": {"url": ...}}`` as inlineData (data URL) or fileData."""
    if not isinstance(image, dict):
        return None
    ref = image.get("image_url")
    url = ref.get("url") if isinstance(ref, dict) else None
    if not isinstance(url, str) or not url:
        return None
    if url.startswith("data:"):
        header, sep, data = url[5:].partition(",")
        if sep and header.endswith(";base64"):
            return {"inlineData": {"mimeType": header[:-7] or "application/octet-stream", "data": data}}
        return None
    return {"fileData": {"mimeType": "image/*", "fileUri": url}}


def attach_signatures(parts: list[dict[str, Any]], details: Any) -> None:
    """Put the state-carrying ``reasoning_details`` on ``parts`` as thoughtSignature (see module doc)."""
    if not isinstance(details, list) or not details:
        return
    calls = [part for part in parts if "functionCall" in part]
    keys = [part["functionCall"].get("id") or f"\x00{i}" for i, part in enumerate(calls)]
    by_call, rest = place_details(details, keys)
    for key, part in zip(keys, calls, strict=True):
        carried = by_call.get(key)
        if carried:
            part["thoughtSignature"] = encode_signature(carried, part["functionCall"].get("id"))
    if rest:
        target = next((part for part in reversed(parts) if "text" in part and not part.get("thought")), None)
        if target is None:
            target = {"text": ""}
            parts.append(target)
        target["thoughtSignature"] = encode_signature(rest, None)


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(part["text"] for part in content if isinstance(part, dict) and isinstance(part.get("text"), str))
    return ""


def reasoning_text(message: dict[str, Any]) -> str:
    reasoning = message.get("reasoning")
    if not isinstance(reasoning, str):
        reasoning = message.get("reasoning_content")
    return reasoning if isinstance(reasoning, str) else ""


def _message_parts(message: dict[str, Any], include_thoughts: bool) -> tuple[list[dict[str, Any]], bool]:
    parts: list[dict[str, Any]] = []
    if include_thoughts:
        reasoning = reasoning_text(message)
        if reasoning:
            parts.append({"text": reasoning, "thought": True})
    text = _text(message.get("content"))
    if not text:
        refusal = message.get("refusal")
        text = refusal if isinstance(refusal, str) else ""
    if text:
        parts.append({"text": text})
    images = message.get("images")
    if isinstance(images, list):
        for image in images:
            part = image_part(image)
            if part is not None:
                parts.append(part)
    malformed = False
    tool_calls = message.get("tool_calls")
    if isinstance(tool_calls, list):
        for call in tool_calls:
            if not isinstance(call, dict):
                continue
            function = call.get("function")
            function = function if isinstance(function, dict) else {}
            part, bad = function_call_part(call.get("id"), function.get("name"), function.get("arguments"))
            parts.append(part)
            malformed = malformed or bad
    attach_signatures(parts, message.get("reasoning_details"))
    return parts, malformed


def load_reply(openai_body: bytes) -> dict[str, Any]:
    try:
        reply = _decode(openai_body)
    except (msgspec.DecodeError, RecursionError) as exc:
        raise UpstreamReplyError(f"The upstream answer is not JSON: {exc}") from None
    if not isinstance(reply, dict):
        raise UpstreamReplyError("The upstream answer is not a JSON object.")
    return reply


def translate_reply(openai_body: bytes, *, model: str, include_thoughts: bool) -> bytes:
    """The Gemini GenerateContentResponse JSON for a (non-streamed) OpenAI chat completion.

    ``model`` is the modelVersion when the upstream names none. Raises UpstreamReplyError."""
    reply = load_reply(openai_body)
    candidates = []
    choices = reply.get("choices")
    for position, choice in enumerate(choices if isinstance(choices, list) else []):
        if not isinstance(choice, dict):
            continue
        message = choice.get("message")
        parts, malformed = _message_parts(message if isinstance(message, dict) else {}, include_thoughts)
        reason = (
            MALFORMED_CALL
            if malformed
            else finish_reason(choice.get("finish_reason"), choice.get("native_finish_reason"))
            or "FINISH_REASON_UNSPECIFIED"
        )
        index = choice.get("index")
        candidates.append(
            {
                "content": {"role": "model", "parts": parts},
                "finishReason": reason,
                "index": index if isinstance(index, int) else position,
            }
        )
    out: dict[str, Any] = {"candidates": candidates}
    usage = usage_metadata(reply.get("usage"))
    if usage is not None:
        out["usageMetadata"] = usage
    upstream_model = reply.get("model")
    out["modelVersion"] = upstream_model if isinstance(upstream_model, str) and upstream_model else model
    reply_id = reply.get("id")
    if isinstance(reply_id, str) and reply_id:
        out["responseId"] = reply_id
    return _encode(out)
