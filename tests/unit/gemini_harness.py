"""google-genai talking to the Gemini translation layer through an in-memory transport.

``GeminiHarness`` plays a route in front of a scripted OpenAI-compatible upstream: it translates the
SDK's request, records the OpenAI body, answers it with ``OpenAIScript`` and translates the answer
back, framed as the route would (JSON, ``?alt=sse``, or the JSON array). No sockets, no event loop.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import httpx
from google import genai
from google.genai import types

from interfaces.http.gemini import (
    GeminiRequestError,
    JsonArrayFramer,
    StreamTranslator,
    count_tokens,
    gemini_error_body,
    model_id,
    sse_event,
    translate_model,
    translate_models,
    translate_reply,
    translate_request,
)

BASE_URL = "http://gateway.test/api"
GEMINI_SIGNATURE = "R2VtaW5pIHNpZ25hdHVyZSBieXRlcyE/"  # canonical standard base64, with a '/' in it
LISTING = {
    "data": [
        {
            "id": "qwen/qwen3-32b",
            "name": "Qwen: Qwen3 32B",
            "description": "Qwen3.",
            "context_length": 40960,
            "top_provider": {"context_length": 40960, "max_completion_tokens": None},
            "architecture": {"output_modalities": ["text"]},
            "supported_parameters": ["reasoning", "tools"],
        },
        {
            "id": "openai/gpt-4o-mini",
            "name": "OpenAI: GPT-4o-mini",
            "description": "Small.",
            "context_length": 128000,
            "top_provider": {"max_completion_tokens": 16384},
            "architecture": {"output_modalities": ["text"]},
        },
        {
            "id": "openai/text-embedding-3-small",
            "name": "Embedding",
            "context_length": 8192,
            "architecture": {"output_modalities": ["embeddings"]},
        },
    ]
}


@dataclass
class OpenAIScript:
    """What the scripted upstream answers: a tool call while tools are offered and no tool result has
    come back yet (with ``signature`` in reasoning_details), else ``text``; ``reasoning`` when set."""

    text: str = "Hello there"
    reasoning: str | None = None
    signature: str = GEMINI_SIGNATURE
    call_name: str | None = None  # None: the first declared tool
    call_arguments: dict[str, Any] = field(default_factory=lambda: {"city": "Paris"})
    stream_error_after: int | None = None  # stream: an OpenRouter error frame after N content frames

    def wants_call(self, body: dict[str, Any]) -> bool:
        return bool(body.get("tools")) and not any(m.get("role") == "tool" for m in body["messages"])

    def _call(self, body: dict[str, Any]) -> tuple[str, str, str]:
        name = self.call_name or body["tools"][0]["function"]["name"]
        return "call_up_1", name, json.dumps(self.call_arguments)

    def usage(self) -> dict[str, Any]:
        reasoning = 3 if self.reasoning else 0
        return {
            "prompt_tokens": 11,
            "completion_tokens": 7 + reasoning,
            "total_tokens": 18 + reasoning,
            "completion_tokens_details": {"reasoning_tokens": reasoning},
            "prompt_tokens_details": {"cached_tokens": 0},
        }

    def reply(self, body: dict[str, Any]) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": self.text, "reasoning": self.reasoning}
        finish = "stop"
        if self.wants_call(body):
            call_id, name, arguments = self._call(body)
            message["content"] = ""
            message["tool_calls"] = [
                {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}
            ]
            message["reasoning_details"] = [
                {"type": "reasoning.encrypted", "data": self.signature, "id": call_id, "format": "google-gemini-v1"}
            ]
            finish = "tool_calls"
        return {
            "id": "gen-123",
            "model": body["model"],
            "object": "chat.completion",
            "choices": [{"index": 0, "message": message, "finish_reason": finish, "native_finish_reason": finish}],
            "usage": self.usage(),
        }

    def frames(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        def chunk(delta: dict[str, Any] | None, finish: str | None = None) -> dict[str, Any]:
            choices = [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish}]
            return {"id": "gen-456", "model": body["model"], "object": "chat.completion.chunk", "choices": choices}

        frames = [chunk({"role": "assistant", "content": ""})]
        if self.reasoning:
            frames += [chunk({"reasoning": word}) for word in _words(self.reasoning)]
        if self.wants_call(body):
            call_id, name, arguments = self._call(body)
            head = {"index": 0, "id": call_id, "type": "function", "function": {"name": name, "arguments": ""}}
            frames.append(chunk({"tool_calls": [head]}))
            cut = len(arguments) // 2
            for piece in (arguments[:cut], arguments[cut:]):
                frames.append(chunk({"tool_calls": [{"index": 0, "function": {"arguments": piece}}]}))
            detail = {"type": "reasoning.encrypted", "data": self.signature, "id": call_id, "index": 0}
            frames.append(chunk({"reasoning_details": [{**detail, "format": "google-gemini-v1"}]}))
            frames.append(chunk({}, "tool_calls"))
        else:
            for n, word in enumerate(_words(self.text)):
                if self.stream_error_after is not None and n == self.stream_error_after:
                    error = chunk({"content": ""}, "error")
                    error["error"] = {"code": 502, "message": "Provider disconnected"}
                    return [*frames, error]
                frames.append(chunk({"content": word}))
            frames.append(chunk({}, "stop"))
        frames.append({**chunk(None), "usage": self.usage()})
        return frames


def _words(text: str) -> list[str]:
    words = text.split(" ")
    return [w if i == 0 else " " + w for i, w in enumerate(words)]


_client: genai.Client | None = None
_current: GeminiHarness | None = None


def _route(request: httpx.Request) -> httpx.Response:
    assert _current is not None
    return _current._handle(request)


def _shared_client() -> genai.Client:
    """One SDK client for every test: building one costs ~0.3 s (it loads CA bundles)."""
    global _client
    if _client is None:
        _client = genai.Client(
            api_key="sk-gemini-test",
            http_options=types.HttpOptions(
                base_url=BASE_URL,
                api_version="v1beta",
                httpx_client=httpx.Client(transport=httpx.MockTransport(_route)),
                httpx_async_client=httpx.AsyncClient(transport=httpx.MockTransport(_route)),
            ),
        )
    return _client


class GeminiHarness:
    """The newest harness is the one the shared client talks to."""

    def __init__(self, script: OpenAIScript | None = None) -> None:
        global _current
        self.script = script or OpenAIScript()
        self.upstream_bodies: list[dict[str, Any]] = []
        self.requests: list[httpx.Request] = []
        self.client = _shared_client()
        _current = self

    @property
    def last_upstream(self) -> dict[str, Any]:
        return self.upstream_bodies[-1]

    def openai_reply(self, body: dict[str, Any]) -> bytes:
        """The upstream's chat completion for ``body``; a subclass may ask a real server."""
        return json.dumps(self.script.reply(body)).encode()

    def openai_frames(self, body: dict[str, Any]) -> list[bytes]:
        """The upstream's stream for ``body``: each SSE frame's data."""
        return [json.dumps(frame).encode() for frame in self.script.frames(body)]

    def _handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path
        prefix = "/api/v1beta/"
        assert path.startswith(prefix), path
        rest = path[len(prefix) :]
        if request.method == "GET":
            if rest == "models":
                params = request.url.params
                size = params.get("pageSize")
                body = translate_models(
                    json.dumps(LISTING).encode(),
                    page_size=int(size) if size else None,
                    page_token=params.get("pageToken"),
                )
                return httpx.Response(200, content=body)
            found = translate_model(json.dumps(LISTING).encode(), rest)
            if found is None:
                return httpx.Response(404, content=gemini_error_body(404, f"Model {rest} not found"))
            return httpx.Response(200, content=found)
        name, _, method = rest.rpartition(":")
        model = model_id(name)
        try:
            if method == "countTokens":
                return httpx.Response(200, content=count_tokens(request.content))
            stream = method == "streamGenerateContent"
            upstream = translate_request(model, request.content, stream=stream)
        except GeminiRequestError as exc:
            return httpx.Response(400, content=gemini_error_body(400, exc.message))
        body = json.loads(upstream.openai_body)
        self.upstream_bodies.append(body)
        if not stream:
            reply = self.openai_reply(body)
            return httpx.Response(
                200, content=translate_reply(reply, model=model, include_thoughts=upstream.include_thoughts)
            )
        translator = StreamTranslator(model, upstream.include_thoughts)
        chunks = [out for data in self.openai_frames(body) for out in translator.feed(data)]
        chunks += translator.feed(b"[DONE]")
        if request.url.params.get("alt") == "sse":
            return httpx.Response(200, content=b"".join(sse_event(c) for c in chunks))
        framer = JsonArrayFramer()
        return httpx.Response(200, content=b"".join(framer.frame(c) for c in chunks) + framer.close())
