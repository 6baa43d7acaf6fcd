"""The upstream's model listing (OpenRouter's ``{"data": [...]}``) in Gemini's shape.

A model is ``models/<upstream id>``; the id may contain slashes (``models/qwen/qwen3-32b``), and so may
the path segment a route hands to ``translate_model``. Models that generate neither text nor images
(embeddings) are left out: they take no ``generateContent``. ``outputTokenLimit`` falls back to the
context length when the upstream gives no completion limit. ``thinking`` is set for models whose
supported parameters include ``reasoning``. Pages: ``pageSize`` (default 50, at most 1000) and the
opaque ``pageToken``/``nextPageToken`` (an offset) of Gemini's ``models.list``.
"""

from __future__ import annotations

from typing import Any

import msgspec

from .response import UpstreamReplyError, load_reply

GENERATION_METHODS = ("generateContent", "streamGenerateContent", "countTokens")
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000
_encode = msgspec.json.encode


def model_id(name: str) -> str:
    """``models/qwen/qwen3-32b`` -> ``qwen/qwen3-32b``; a name without the prefix is already an id."""
    return name[7:] if name.startswith("models/") else name


def _limit(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def gemini_model(entry: Any) -> dict[str, Any] | None:
    """One upstream model entry as a Gemini ``Model``; None for one that is not a generation model."""
    if not isinstance(entry, dict):
        return None
    upstream_id = entry.get("id")
    if not isinstance(upstream_id, str) or not upstream_id:
        return None
    architecture = entry.get("architecture")
    outputs = architecture.get("output_modalities") if isinstance(architecture, dict) else None
    if (
        isinstance(outputs, list)
        and outputs
        and not ({"text", "image"} & set(o for o in outputs if isinstance(o, str)))
    ):
        return None
    top = entry.get("top_provider")
    top = top if isinstance(top, dict) else {}
    context = _limit(entry.get("context_length")) or _limit(top.get("context_length"))
    name = entry.get("name")
    description = entry.get("description")
    model: dict[str, Any] = {
        "name": f"models/{upstream_id}",
        "baseModelId": upstream_id,
        "version": "001",
        "displayName": name if isinstance(name, str) and name else upstream_id,
        "description": description if isinstance(description, str) else "",
    }
    if context is not None:
        model["inputTokenLimit"] = context
    output = _limit(top.get("max_completion_tokens")) or context
    if output is not None:
        model["outputTokenLimit"] = output
    model["supportedGenerationMethods"] = list(GENERATION_METHODS)
    parameters = entry.get("supported_parameters")
    if isinstance(parameters, list) and "reasoning" in parameters:
        model["thinking"] = True
    return model


def _entries(openai_body: bytes) -> list[Any]:
    data = load_reply(openai_body).get("data")
    if not isinstance(data, list):
        raise UpstreamReplyError("The upstream model listing has no data array.")
    return data


def translate_models(openai_body: bytes, *, page_size: int | None = None, page_token: str | None = None) -> bytes:
    """Gemini's ``ListModelsResponse`` JSON. A page token that is not one of ours starts at the top."""
    models = [m for m in map(gemini_model, _entries(openai_body)) if m is not None]
    size = DEFAULT_PAGE_SIZE if not page_size or page_size < 1 else min(page_size, MAX_PAGE_SIZE)
    start = int(page_token) if page_token and page_token.isdigit() else 0
    out: dict[str, Any] = {"models": models[start : start + size]}
    if start + size < len(models):
        out["nextPageToken"] = str(start + size)
    return _encode(out)


def translate_model(openai_body: bytes, name: str) -> bytes | None:
    """One Gemini ``Model`` JSON for ``name`` (``models/<id>`` or ``<id>``); None when it is not listed."""
    wanted = model_id(name)
    for entry in _entries(openai_body):
        if isinstance(entry, dict) and entry.get("id") == wanted:
            model = gemini_model(entry)
            return None if model is None else _encode(model)
    return None
