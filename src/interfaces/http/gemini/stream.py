"""An OpenAI chat-completions stream -> Gemini ``streamGenerateContent`` chunks, one upstream frame at a time.

Feed each upstream SSE ``data`` payload (the JSON text, without ``data: ``) to ``StreamTranslator.feed``
and send what it returns, framed by ``sse_event`` (``?alt=sse``) or a ``JsonArrayFramer`` (no ``alt``);
call ``finish`` when the upstream stream ends (``[DONE]`` fed to ``feed`` does the same, and also
closes with STOP any choice the upstream never gave a finish_reason).

- Text and reasoning deltas go out at once, one chunk with one part each: nothing is held back.
- Tool-call argument deltas are buffered per tool index; the calls go out as functionCall parts on
  the choice's last chunk, which carries the finishReason and the thoughtSignatures gathered from
  the ``reasoning_details`` deltas (see ``response.py`` for where a signature lands).
- That last chunk is held until the usage chunk that follows it in the upstream stream, so that, as
  with Gemini, the chunk with the finishReason also has the ``usageMetadata``. Every chunk has at
  least one candidate with at least one part: google-genai's chats drop a turn from the history
  otherwise.
- Every chunk has ``modelVersion`` and, once the upstream id is known, ``responseId``.
- An upstream error frame (``{"error": ...}``) becomes a Gemini error object, which google-genai
  raises as APIError; nothing after it is translated.
"""

from __future__ import annotations

from typing import Any

import msgspec

from .errors import gemini_error_body
from .response import (
    MALFORMED_CALL,
    attach_signatures,
    finish_reason,
    function_call_part,
    image_part,
    reasoning_text,
    usage_metadata,
)

_decode = msgspec.json.decode
_encode = msgspec.json.encode
_DONE = b"[DONE]"
_JOINED = ("text", "data", "summary")


def sse_event(obj: bytes) -> bytes:
    """One SSE event as Google frames it: ``data: <json>`` and a blank line, CRLF."""
    return b"data: " + obj + b"\r\n\r\n"


class JsonArrayFramer:
    """The stream without ``alt=sse``: one JSON array, written element by element."""

    __slots__ = ("_started",)

    def __init__(self) -> None:
        self._started = False

    def frame(self, obj: bytes) -> bytes:
        if self._started:
            return b",\r\n" + obj
        self._started = True
        return b"[" + obj

    def close(self) -> bytes:
        return b"]" if self._started else b"[]"


class _Call:
    __slots__ = ("arguments", "id", "name")

    def __init__(self) -> None:
        self.id: str | None = None
        self.name: str | None = None
        self.arguments: list[str] = []


class _Choice:
    __slots__ = ("calls", "details", "finished")

    def __init__(self) -> None:
        self.calls: dict[int, _Call] = {}
        self.details: list[dict[str, Any]] = []
        self.finished = False

    def add_details(self, deltas: list[Any]) -> None:
        """Streamed entries of one ``index`` are pieces of one entry: join their text, keep the rest."""
        for delta in deltas:
            if not isinstance(delta, dict):
                continue
            index = delta.get("index")
            same = None
            if isinstance(index, int):
                same = next(
                    (d for d in self.details if d.get("index") == index and d.get("type") == delta.get("type")), None
                )
            if same is None:
                self.details.append(dict(delta))
                continue
            for key, value in delta.items():
                if value is None:
                    continue
                if key in _JOINED and isinstance(value, str) and isinstance(same.get(key), str):
                    same[key] += value
                else:
                    same[key] = value


class StreamTranslator:
    """Translates one upstream stream; not thread-safe, one instance per request."""

    __slots__ = ("_choices", "_done", "_include_thoughts", "_model", "_pending", "_response_id", "_usage_sent")

    def __init__(self, model: str, include_thoughts: bool) -> None:
        self._model = model
        self._include_thoughts = include_thoughts
        self._response_id: str | None = None
        self._choices: dict[int, _Choice] = {}
        self._pending: list[dict[str, Any]] = []  # finished candidates, waiting for the usage chunk
        self._done = False
        self._usage_sent = False

    def _chunk(self, candidates: list[dict[str, Any]], usage: dict[str, int] | None) -> bytes:
        out: dict[str, Any] = {"candidates": candidates}
        if usage is not None:
            out["usageMetadata"] = usage
        out["modelVersion"] = self._model
        if self._response_id is not None:
            out["responseId"] = self._response_id
        return _encode(out)

    def _parts(self, delta: dict[str, Any]) -> list[dict[str, Any]]:
        parts: list[dict[str, Any]] = []
        if self._include_thoughts:
            reasoning = reasoning_text(delta)
            if reasoning:
                parts.append({"text": reasoning, "thought": True})
        content = delta.get("content")
        if isinstance(content, str) and content:
            parts.append({"text": content})
        images = delta.get("images")
        if isinstance(images, list):
            for image in images:
                part = image_part(image)
                if part is not None:
                    parts.append(part)
        return parts

    def _final(self, state: _Choice, index: int, choice: dict[str, Any], parts: list[dict[str, Any]]) -> dict[str, Any]:
        malformed = False
        for position in sorted(state.calls):
            call = state.calls[position]
            part, bad = function_call_part(call.id, call.name, "".join(call.arguments))
            parts.append(part)
            malformed = malformed or bad
        attach_signatures(parts, state.details)
        if not parts:
            parts.append({"text": ""})
        state.finished = True
        state.calls = {}
        state.details = []
        candidate: dict[str, Any] = {"content": {"role": "model", "parts": parts}}
        reason = (
            MALFORMED_CALL
            if malformed
            else finish_reason(choice.get("finish_reason"), choice.get("native_finish_reason"))
        )
        if reason is not None:
            candidate["finishReason"] = reason
        candidate["index"] = index
        return candidate

    def feed(self, data: bytes) -> list[bytes]:
        """The Gemini chunks (JSON, unframed) for one upstream frame's data; often none or one."""
        if self._done:
            return []
        if data[:6] == _DONE or data.strip() == _DONE:
            return self._end(clean=True)
        try:
            chunk = _decode(data)
        except (msgspec.DecodeError, RecursionError):
            return []  # not a frame we can read; the relay judges the stream as a whole
        if not isinstance(chunk, dict):
            return []
        if self._response_id is None:
            chunk_id = chunk.get("id")
            if isinstance(chunk_id, str) and chunk_id:
                self._response_id = chunk_id
        chunk_model = chunk.get("model")
        if isinstance(chunk_model, str) and chunk_model:
            self._model = chunk_model
        error = chunk.get("error")
        if error is not None:
            self._done = True
            return [_error_body(error)]

        now: list[dict[str, Any]] = []
        choices = chunk.get("choices")
        for position, choice in enumerate(choices if isinstance(choices, list) else []):
            if not isinstance(choice, dict):
                continue
            index = choice.get("index")
            index = index if isinstance(index, int) else position
            state = self._choices.get(index)
            if state is None:
                state = self._choices[index] = _Choice()
            if state.finished:
                continue
            delta = choice.get("delta")
            delta = delta if isinstance(delta, dict) else {}
            parts = self._parts(delta)
            tool_calls = delta.get("tool_calls")
            if isinstance(tool_calls, list):
                for tool_call in tool_calls:
                    if isinstance(tool_call, dict):
                        _buffer(state, tool_call)
            details = delta.get("reasoning_details")
            if isinstance(details, list):
                state.add_details(details)
            if choice.get("finish_reason") is not None:
                self._pending.append(self._final(state, index, choice, parts))
            elif parts:
                now.append({"content": {"role": "model", "parts": parts}, "index": index})

        out: list[bytes] = []
        if now:
            if self._pending:
                out.append(self._chunk(self._pending, None))
                self._pending = []
            out.append(self._chunk(now, None))
        usage = usage_metadata(chunk.get("usage"))
        if usage is not None and not self._usage_sent:
            self._usage_sent = True
            candidates = self._pending or [{"content": {"role": "model", "parts": [{"text": ""}]}, "index": 0}]
            self._pending = []
            out.append(self._chunk(candidates, usage))
        return out

    def finish(self) -> list[bytes]:
        """What is still held when the upstream stream ends: the last chunk(s), usage or not. A choice
        with buffered calls that never finished goes out without a finishReason (the stream was cut)."""
        return self._end(clean=False)

    def _end(self, clean: bool) -> list[bytes]:
        if self._done:
            return []
        self._done = True
        for index, state in self._choices.items():
            if state.finished:
                continue
            if clean:  # [DONE] with no finish_reason for this choice: it ended all the same
                self._pending.append(self._final(state, index, {"finish_reason": "stop"}, []))
            elif state.calls or state.details:
                self._pending.append(self._final(state, index, {}, []))
        if not self._pending:
            return []
        out = [self._chunk(self._pending, None)]
        self._pending = []
        return out


def _buffer(state: _Choice, delta: dict[str, Any]) -> None:
    position = delta.get("index")
    position = position if isinstance(position, int) else len(state.calls)
    call = state.calls.get(position)
    if call is None:
        call = state.calls[position] = _Call()
    call_id = delta.get("id")
    if isinstance(call_id, str) and call_id:
        call.id = call_id
    function = delta.get("function")
    if isinstance(function, dict):
        name = function.get("name")
        if isinstance(name, str) and name and call.name is None:
            call.name = name
        arguments = function.get("arguments")
        if isinstance(arguments, str):
            call.arguments.append(arguments)
        elif isinstance(arguments, dict):
            call.arguments.append(_encode(arguments).decode())


def _error_body(error: Any) -> bytes:
    code = error.get("code") if isinstance(error, dict) else None
    if not (isinstance(code, int) and not isinstance(code, bool) and 400 <= code <= 599):
        code = 502  # the answer had already begun: the upstream failed
    message = error.get("message") if isinstance(error, dict) else None
    return gemini_error_body(
        code, message if isinstance(message, str) and message else "The upstream failed mid-stream."
    )
