"""``countTokens`` without a tokenizer: an estimate of about four characters a token.

Each non-empty text counts max(1, characters // 4), function calls and responses count as their JSON
text, and each inline or referenced file counts ``MEDIA_TOKENS`` (Gemini's flat cost of an image).
Both request forms are accepted: ``{"contents": [...]}`` and ``{"generateContentRequest": {...}}``;
the latter's ``systemInstruction`` and ``tools`` are counted too, as Gemini does.
"""

from __future__ import annotations

from typing import Any

import msgspec

from .request import GeminiRequestError, _get, _list, _object, load_object

MEDIA_TOKENS = 258
_encode = msgspec.json.encode


def _text_tokens(text: str) -> int:
    return max(1, len(text) // 4) if text else 0


def _parts_tokens(parts: Any, field: str) -> int:
    total = 0
    for index, raw in enumerate(_list(parts, field)):
        part = _object(raw, f"{field}[{index}]")
        text = part.get("text")
        if isinstance(text, str):
            total += _text_tokens(text)
        elif _get(part, "inlineData") is not None or _get(part, "fileData") is not None:
            total += MEDIA_TOKENS
        else:
            for name in ("functionCall", "functionResponse"):
                value = _get(part, name)
                if value is not None:
                    total += _text_tokens(_encode(value).decode())
    return total


def _contents_tokens(contents: Any, field: str) -> int:
    if not contents:
        raise GeminiRequestError("contents is not specified", field)
    total = 0
    for turn, raw in enumerate(_list(contents, field)):
        content = _object(raw, f"{field}[{turn}]")
        total += _parts_tokens(content.get("parts") or [], f"{field}[{turn}].parts")
    return total


def count_tokens(body: bytes) -> bytes:
    """``{"totalTokens": N}`` for a countTokens body; raises GeminiRequestError for a bad one."""
    root = load_object(body)
    request = _get(root, "generateContentRequest")
    if request is None:
        total = _contents_tokens(root.get("contents"), "contents")
    else:
        request = _object(request, "generateContentRequest")
        total = _contents_tokens(request.get("contents"), "generateContentRequest.contents")
        system = _get(request, "systemInstruction")
        if isinstance(system, str):
            total += _text_tokens(system)
        elif system is not None:
            system = _object(system, "generateContentRequest.systemInstruction")
            total += _parts_tokens(system.get("parts") or [], "generateContentRequest.systemInstruction.parts")
        tools = _get(request, "tools")
        if tools:
            total += _text_tokens(_encode(tools).decode())
    return _encode({"totalTokens": total})
