"""What the fake upstream says: OpenRouter-shaped bodies, built from pure functions of the request.

Everything here is deterministic so that tests can compute the expected numbers themselves:

- prompt tokens  = characters of text in the request // 4, at least 1 (see ``count_prompt_tokens``);
- completion     = ``chunks`` words "chunk0 chunk1 ...", one completion token per chunk;
- cost (dollars) = prompt_tokens * 1e-6 + completion_tokens * 2e-6, rounded to 12 decimal places so
  that its shortest repr is the exact decimal (``Decimal(str(cost))`` is the true figure).
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import os
import struct
import time
import zlib
from typing import Any

PROVIDER = "Fake"
DEFAULT_CHAT_MODEL = "openai/gpt-4o-mini"
DEFAULT_EMBEDDING_MODEL = "openai/text-embedding-3-small"
DEFAULT_MODERATION_MODEL = "omni-moderation-latest"
PROMPT_PRICE = 1e-6  # dollars per prompt token, matching the catalogue's "0.000001"
COMPLETION_PRICE = 2e-6  # dollars per completion token, matching "0.000002"
EMBEDDING_DIMENSIONS = 8

_id_counter = itertools.count(1)
_id_salt = f"{os.getpid() % 100000:05d}"


def new_id(prefix: str = "gen") -> str:
    return f"{prefix}-{int(time.time())}-{_id_salt}{next(_id_counter):09d}"


def fake_cost(prompt_tokens: int, completion_tokens: int = 0) -> float:
    return round(prompt_tokens * PROMPT_PRICE + completion_tokens * COMPLETION_PRICE, 12)


def _text_of(content: Any) -> str:
    """Text of an OpenAI message content: a string, or a list of parts of which only text counts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            part.get("text", "") for part in content if isinstance(part, dict) and isinstance(part.get("text", ""), str)
        )
    return ""


def count_prompt_tokens(messages: Any) -> int:
    """Characters of message contents (strings, or the "text" of content parts) // 4, at least 1."""
    chars = 0
    if isinstance(messages, list):
        for message in messages:
            if isinstance(message, dict):
                chars += len(_text_of(message.get("content")))
    return max(1, chars // 4)


def count_input_tokens(inputs: list[str]) -> int:
    """The same rule for embeddings: characters of all inputs // 4, at least 1."""
    return max(1, sum(len(text) for text in inputs) // 4)


def completion_words(chunks: int) -> list[str]:
    """The streamed deltas; joined they are the non-streamed content."""
    return [f"chunk{i}" if i == 0 else f" chunk{i}" for i in range(chunks)]


def completion_text(chunks: int) -> str:
    return "".join(completion_words(chunks))


def usage(
    prompt_tokens: int, completion_tokens: int, cost: float | None = None, override: dict[str, Any] | None = None
) -> dict[str, Any]:
    """``override`` (the ``usage`` knob) replaces fields whatever their values, to play a broken upstream."""
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
        "cost": fake_cost(prompt_tokens, completion_tokens) if cost is None else cost,
        "is_byok": False,
        "prompt_tokens_details": {"cached_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 0},
        **(override or {}),
    }


def error_body(status: int, message: str, metadata: dict[str, Any] | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"message": message, "code": status}
    if metadata is not None:
        error["metadata"] = metadata
    return {"error": error}


def chat_completion(
    *, gen_id: str, model: str, created: int, text: str, usage_: dict[str, Any], fingerprint: str | None
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": gen_id,
        "provider": PROVIDER,
        "model": model,
        "object": "chat.completion",
        "created": created,
        "choices": [
            {
                "index": 0,
                "logprobs": None,
                "finish_reason": "stop",
                "native_finish_reason": "stop",
                "message": {"role": "assistant", "content": text, "refusal": None, "reasoning": None},
            }
        ],
        "usage": usage_,
    }
    if fingerprint is not None:
        body["system_fingerprint"] = fingerprint
    return body


def chat_chunk(
    *,
    gen_id: str,
    model: str,
    created: int,
    delta: dict[str, Any] | None,
    finish_reason: str | None = None,
    fingerprint: str | None = None,
) -> dict[str, Any]:
    """One ``chat.completion.chunk``; ``delta=None`` gives the usage chunk's empty choices."""
    body: dict[str, Any] = {
        "id": gen_id,
        "provider": PROVIDER,
        "model": model,
        "object": "chat.completion.chunk",
        "created": created,
        "choices": []
        if delta is None
        else [
            {
                "index": 0,
                "delta": delta,
                "finish_reason": finish_reason,
                "native_finish_reason": finish_reason,
                "logprobs": None,
            }
        ],
    }
    if fingerprint is not None:
        body["system_fingerprint"] = fingerprint
    return body


def mid_stream_error_chunk(*, gen_id: str, model: str, created: int, message: str) -> dict[str, Any]:
    """OpenRouter's way to fail once the 200 is already out: an error beside a finish_reason "error"."""
    return {
        "id": gen_id,
        "provider": PROVIDER,
        "model": model,
        "object": "chat.completion.chunk",
        "created": created,
        "error": {"message": message, "code": 502},
        "choices": [{"index": 0, "delta": {"content": ""}, "finish_reason": "error"}],
    }


def embedding_inputs(value: Any) -> list[str] | None:
    """The texts to embed, or None when ``input`` is not a string or a list of strings / token ids."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and value:
        if all(isinstance(item, str) for item in value):
            return value
        if all(isinstance(item, int) for item in value):
            return [" " * len(value)]  # one token-id array; cost it as its length in characters
        if all(isinstance(item, list) for item in value):
            return [" " * len(item) for item in value]
    return None


def embedding_vector(text: str) -> list[float]:
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()
    return [round(byte / 127.5 - 1.0, 6) for byte in digest[:EMBEDDING_DIMENSIONS]]


def embeddings(*, model: str, inputs: list[str], encoding_format: str | None, cost: float | None) -> dict[str, Any]:
    data = []
    for index, text in enumerate(inputs):
        vector: Any = embedding_vector(text)
        if encoding_format == "base64":
            vector = base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode("ascii")
        data.append({"object": "embedding", "embedding": vector, "index": index})
    prompt_tokens = count_input_tokens(inputs)
    return {
        "id": new_id("gen-emb"),
        "object": "list",
        "data": data,
        "model": model,
        "provider": PROVIDER,
        "usage": {
            "prompt_tokens": prompt_tokens,
            "total_tokens": prompt_tokens,
            "cost": fake_cost(prompt_tokens) if cost is None else cost,
        },
    }


MODERATION_CATEGORIES = (
    "harassment",
    "harassment/threatening",
    "hate",
    "hate/threatening",
    "illicit",
    "illicit/violent",
    "self-harm",
    "self-harm/intent",
    "self-harm/instructions",
    "sexual",
    "sexual/minors",
    "violence",
    "violence/graphic",
)
# omni-moderation reads images only for these; the others list "text" alone.
_IMAGE_CATEGORIES = frozenset(
    {"self-harm", "self-harm/intent", "self-harm/instructions", "sexual", "violence", "violence/graphic"}
)


def _moderation_result(text: str, has_image: bool) -> dict[str, Any]:
    violent = "kill" in text.lower()
    categories = {name: name == "violence" and violent for name in MODERATION_CATEGORIES}
    scores = {name: 1e-6 for name in MODERATION_CATEGORIES}
    if violent:
        scores["violence"] = 0.93
    types = {
        name: ["text", "image"] if has_image and name in _IMAGE_CATEGORIES else ["text"]
        for name in MODERATION_CATEGORIES
    }
    return {
        "flagged": violent,
        "categories": categories,
        "category_scores": scores,
        "category_applied_input_types": types,
    }


def moderation(*, model: str, value: Any) -> dict[str, Any] | None:
    """One result per string input, or one for a multimodal parts list; None for a bad ``input``."""
    if isinstance(value, str):
        results = [_moderation_result(value, False)]
    elif isinstance(value, list) and value and all(isinstance(item, str) for item in value):
        results = [_moderation_result(item, False) for item in value]
    elif isinstance(value, list) and value and all(isinstance(item, dict) for item in value):
        has_image = any(item.get("type") == "image_url" for item in value)
        results = [_moderation_result(_text_of(value), has_image)]
    else:
        return None
    return {"id": new_id("modr"), "model": model, "results": results}


def _model(
    slug: str,
    name: str,
    *,
    context: int,
    max_completion: int | None,
    inputs: list[str],
    outputs: list[str],
    tokenizer: str,
    moderated: bool,
    parameters: list[str],
    completion_price: str = "0.000002",
) -> dict[str, Any]:
    return {
        "id": slug,
        "canonical_slug": f"{slug}-20250101",
        "name": name,
        "created": 1735689600,
        "description": f"{name}, as served by Sluice's fake upstream.",
        "context_length": context,
        "architecture": {
            "modality": f"{'+'.join(inputs)}->{'+'.join(outputs)}",
            "input_modalities": inputs,
            "output_modalities": outputs,
            "tokenizer": tokenizer,
        },
        "pricing": {"prompt": "0.000001", "completion": completion_price, "request": "0", "image": "0"},
        "top_provider": {
            "context_length": context,
            "max_completion_tokens": max_completion,
            "is_moderated": moderated,
        },
        "per_request_limits": None,
        "supported_parameters": parameters,
    }


_CHAT_PARAMETERS = [
    "max_tokens",
    "temperature",
    "top_p",
    "stop",
    "frequency_penalty",
    "presence_penalty",
    "seed",
    "response_format",
    "tools",
    "tool_choice",
]

CHAT_MODELS = [
    _model(
        "openai/gpt-4o-mini",
        "OpenAI: GPT-4o-mini",
        context=128000,
        max_completion=16384,
        inputs=["text", "image", "file"],
        outputs=["text"],
        tokenizer="GPT",
        moderated=True,
        parameters=[*_CHAT_PARAMETERS, "logprobs", "top_logprobs", "structured_outputs"],
    ),
    _model(
        "qwen/qwen3-32b",
        "Qwen: Qwen3 32B",
        context=40960,
        max_completion=None,
        inputs=["text"],
        outputs=["text"],
        tokenizer="Qwen3",
        moderated=False,
        parameters=[*_CHAT_PARAMETERS, "reasoning", "include_reasoning"],
    ),
    _model(
        "google/gemini-2.5-flash-image",
        "Google: Gemini 2.5 Flash Image",
        context=32768,
        max_completion=8192,
        inputs=["image", "text"],
        outputs=["image", "text"],
        tokenizer="Gemini",
        moderated=False,
        parameters=["max_tokens", "temperature", "top_p", "seed", "response_format", "stop"],
    ),
    _model(
        "anthropic/claude-3.5-sonnet",
        "Anthropic: Claude 3.5 Sonnet",
        context=200000,
        max_completion=8192,
        inputs=["text", "image", "file"],
        outputs=["text"],
        tokenizer="Claude",
        moderated=True,
        parameters=["max_tokens", "temperature", "top_p", "top_k", "stop", "tools", "tool_choice"],
    ),
    _model(
        "meta-llama/llama-3.1-8b-instruct",
        "Meta: Llama 3.1 8B Instruct",
        context=131072,
        max_completion=16384,
        inputs=["text"],
        outputs=["text"],
        tokenizer="Llama3",
        moderated=False,
        parameters=_CHAT_PARAMETERS,
    ),
    # The models the specs' examples name, so that each example runs as written against this fake
    # (gateway spec: gpt-4o, claude-sonnet-4-20250514, gemini-2.5-pro/-flash; credits spec:
    # groq/gemma-groq-416, a fictional id, and mistral/mistral-large-135).
    _model(
        "openai/gpt-4o",
        "OpenAI: GPT-4o",
        context=128000,
        max_completion=16384,
        inputs=["text", "image", "file"],
        outputs=["text"],
        tokenizer="GPT",
        moderated=True,
        parameters=[*_CHAT_PARAMETERS, "logprobs", "top_logprobs", "structured_outputs"],
    ),
    _model(
        "google/gemini-2.5-pro",
        "Google: Gemini 2.5 Pro",
        context=1048576,
        max_completion=65536,
        inputs=["text", "image", "file"],
        outputs=["text"],
        tokenizer="Gemini",
        moderated=False,
        parameters=["max_tokens", "temperature", "top_p", "seed", "response_format", "stop", "tools", "reasoning"],
    ),
    _model(
        "google/gemini-2.5-flash",
        "Google: Gemini 2.5 Flash",
        context=1048576,
        max_completion=65535,
        inputs=["text", "image", "file"],
        outputs=["text"],
        tokenizer="Gemini",
        moderated=False,
        parameters=["max_tokens", "temperature", "top_p", "seed", "response_format", "stop", "tools", "reasoning"],
    ),
    _model(
        "anthropic/claude-sonnet-4",
        "Anthropic: Claude Sonnet 4",
        context=200000,
        max_completion=64000,
        inputs=["text", "image", "file"],
        outputs=["text"],
        tokenizer="Claude",
        moderated=True,
        parameters=["max_tokens", "temperature", "top_p", "top_k", "stop", "tools", "tool_choice", "reasoning"],
    ),
    _model(
        "groq/gemma-groq-416",
        "Groq: Gemma 416 (fictional, from the credits spec)",
        context=8192,
        max_completion=8192,
        inputs=["text"],
        outputs=["text"],
        tokenizer="Gemini",
        moderated=False,
        parameters=_CHAT_PARAMETERS,
    ),
    _model(
        "mistral/mistral-large-135",
        "Mistral: Mistral Large 135 (fictional, from the credits spec)",
        context=131072,
        max_completion=None,
        inputs=["text"],
        outputs=["text"],
        tokenizer="Mistral",
        moderated=False,
        parameters=_CHAT_PARAMETERS,
    ),
]

EMBEDDING_MODELS = [
    _model(
        "openai/text-embedding-3-small",
        "OpenAI: Text Embedding 3 Small",
        context=8192,
        max_completion=None,
        inputs=["text"],
        outputs=["embeddings"],
        tokenizer="GPT",
        moderated=False,
        parameters=["dimensions", "encoding_format"],
        completion_price="0",
    ),
]


# ---- reasoning and tool calls (knobs "reasoning" and "tool_call") ------------------------------

REASONING_TEXT = "Thinking it over."


def reasoning_words(text: str) -> list[str]:
    """The streamed reasoning deltas; one reasoning token each (added to completion_tokens)."""
    words = text.split(" ")
    return [word if i == 0 else " " + word for i, word in enumerate(words)]


def requested_reasoning(body: dict[str, Any], knob: bool | str) -> str | None:
    """The reasoning text to answer with: the knob's, or REASONING_TEXT when the request asks for
    reasoning (``reasoning`` not disabled, not excluded; or ``include_reasoning: true``)."""
    if isinstance(knob, str):
        return knob or None
    if knob:
        return REASONING_TEXT
    asked = body.get("reasoning")
    if isinstance(asked, dict):
        off = asked.get("enabled") is False or asked.get("effort") == "none" or asked.get("exclude") is True
        return None if off else REASONING_TEXT
    return REASONING_TEXT if body.get("include_reasoning") is True else None


def planned_tool_call(body: dict[str, Any], knob: bool | dict[str, Any] | None) -> dict[str, str] | None:
    """The call to answer with, or None: needs the knob, tools in the request and no tool result yet.

    ``id`` and the signature are pure functions of the name and the argument text:
    ``call_<12 hex>`` and ``sig-<16 hex>`` of sha256(name + "\\n" + arguments)."""
    if knob is None or knob is False:
        return None
    tools = body.get("tools")
    messages = body.get("messages")
    if not isinstance(tools, list) or not tools or not isinstance(messages, list):
        return None
    if any(isinstance(m, dict) and m.get("role") == "tool" for m in messages):
        return None
    spec = knob if isinstance(knob, dict) else {}
    name = spec.get("name")
    if not isinstance(name, str):
        first = tools[0].get("function") if isinstance(tools[0], dict) else None
        name = first.get("name") if isinstance(first, dict) and isinstance(first.get("name"), str) else "tool"
    arguments = spec.get("arguments", {})
    if not isinstance(arguments, str):
        arguments = json.dumps(arguments, separators=(",", ":"))
    digest = hashlib.sha256(f"{name}\n{arguments}".encode()).hexdigest()
    return {"id": f"call_{digest[:12]}", "name": name, "arguments": arguments, "signature": f"sig-{digest[:16]}"}


def tool_call_details(call: dict[str, str], reasoning: str | None) -> list[dict[str, Any]]:
    """OpenRouter's reasoning_details for a Gemini tool call: the thought text, then the signature."""
    details: list[dict[str, Any]] = []
    if reasoning:
        details.append({"type": "reasoning.text", "text": reasoning, "format": "google-gemini-v1", "index": 0})
    details.append(
        {
            "type": "reasoning.encrypted",
            "data": call["signature"],
            "id": call["id"],
            "format": "google-gemini-v1",
            "index": len(details),
        }
    )
    return details


def add_reasoning(completion: dict[str, Any], reasoning: str) -> None:
    completion["choices"][0]["message"]["reasoning"] = reasoning


def add_tool_call(completion: dict[str, Any], call: dict[str, str], reasoning: str | None) -> None:
    choice = completion["choices"][0]
    choice["finish_reason"] = choice["native_finish_reason"] = "tool_calls"
    message = choice["message"]
    message["content"] = ""
    message["tool_calls"] = [
        {"id": call["id"], "type": "function", "function": {"name": call["name"], "arguments": call["arguments"]}}
    ]
    message["reasoning_details"] = tool_call_details(call, reasoning)


def count_reasoning(usage_: dict[str, Any], reasoning_tokens: int, override: dict[str, Any] | None) -> dict[str, Any]:
    """``usage_`` (already counting them in completion_tokens) with its reasoning_tokens set."""
    if reasoning_tokens and not (override and "completion_tokens_details" in override):
        usage_["completion_tokens_details"] = {"reasoning_tokens": reasoning_tokens}
    return usage_
# ---- image generation: a chat request with "image" among its "modalities" ---------------------------

IMAGE_TEXT = "Here is your image."
IMAGE_TOKENS = 1290  # completion tokens per image, as Gemini reports a 1024x1024 image
IMAGE_COLOR = (0x2E, 0x86, 0xDE)


def _png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A valid PNG of one solid colour (8-bit RGB, no interlace)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    row = b"\x00" + bytes(rgb) * width  # filter type 0, then the pixels
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )


IMAGE_PNG = _png(8, 8, IMAGE_COLOR)
IMAGE_DATA_URL = "data:image/png;base64," + base64.b64encode(IMAGE_PNG).decode("ascii")


def wants_image(body: dict[str, Any]) -> bool:
    """OpenRouter draws when the request asks for the image modality (any model, here)."""
    modalities = body.get("modalities")
    return isinstance(modalities, list) and "image" in modalities


def image_parts() -> list[dict[str, Any]]:
    """The ``images`` of an assistant message (or of a stream's delta): one PNG as a data URL."""
    return [{"type": "image_url", "image_url": {"url": IMAGE_DATA_URL}}]


def image_usage(
    prompt_tokens: int, cost: float | None = None, override: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Usage of one image answer: the image's tokens are completion tokens, priced as such."""
    body = usage(prompt_tokens, IMAGE_TOKENS, cost)
    body["completion_tokens_details"] = {"reasoning_tokens": 0, "image_tokens": IMAGE_TOKENS}
    return {**body, **(override or {})}


# ---- files (OpenRouter's file-parser plugin) -------------------------------------------------------


def file_annotations(messages: Any) -> list[dict[str, Any]] | None:
    """What OpenRouter's file parser sends back for each ``file`` part: an annotation with the file's
    name, a hash of its data and its "parsed" text, so a client can send it back and skip parsing."""
    found = []
    for message in messages if isinstance(messages, list) else ():
        content = message.get("content") if isinstance(message, dict) else None
        for part in content if isinstance(content, list) else ():
            if not isinstance(part, dict) or part.get("type") != "file" or not isinstance(part.get("file"), dict):
                continue
            file = part["file"]
            data = str(file.get("file_data", ""))
            found.append(
                {
                    "type": "file",
                    "file": {
                        "hash": hashlib.sha256(data.encode()).hexdigest(),
                        "name": str(file.get("filename", "file")),
                        "content": [{"type": "text", "text": f"parsed {len(data)} characters"}],
                    },
                }
            )
    return found or None
