"""Server-sent events from the upstream: cut a byte stream into frames, and read off what metering needs.

`SseSplitter` takes the network's chunks as they come (a frame may be cut anywhere, even inside a
line terminator) and returns the complete frames, each ending in exactly ``\\n\\n``. `classify` turns
one frame into a `StreamChunk`, decoding the JSON only for ``data:`` frames and only the few fields
it needs (content length, usage, error); ``raw`` stays the bytes as received.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import msgspec

from application.ports.upstream import StreamChunk
from domain.pricing import Usage
from domain.usage_bounds import bounded_usage

__all__ = ["OddUsageReport", "SseSplitter", "WireUsage", "classify", "error_message", "parse_usage", "warn_odd_usage"]

log = logging.getLogger("sluice.upstream")

_LF = b"\n"
_CR = b"\r"
_TERMINATOR = b"\n\n"
_NEWLINES = b"\r\n"
_DATA_PREFIX = b"data: "
_DONE = b"[DONE]"


class SseSplitter:
    """Incremental frame splitter: ``feed`` chunks, get back the frames they complete.

    A frame ends at a blank line: ``\\n\\n``, ``\\r\\n\\r\\n`` or a mix of the two (``\\r\\n\\n``,
    ``\\n\\r\\n``). Each returned frame is its content (stray blank lines before it dropped, a final
    ``\\r`` of its last line dropped) followed by ``\\n\\n``. Frames are a function of the whole byte
    stream only: however it is chunked, the same frames come out.
    """

    __slots__ = ("_pending", "_tail")

    def __init__(self) -> None:
        self._tail = b""  # an incomplete frame's bytes
        self._pending: list[bytes] = []  # chunks with no LF, not yet joined onto _tail

    def feed(self, chunk: bytes) -> list[bytes]:
        if _LF not in chunk:
            # No frame can end in a chunk without LF: keep it aside without copying (a large
            # frame arriving in many reads is then joined once, not once per read).
            if chunk:
                self._pending.append(chunk)
            return []
        if self._pending:
            buf = b"".join((self._tail, *self._pending, chunk))
            self._pending.clear()
        elif self._tail:
            buf = self._tail + chunk
        else:
            buf = chunk
        if _CR not in buf:
            parts = buf.split(_TERMINATOR)
            self._tail = parts.pop()
            return [part.lstrip(_LF) + _TERMINATOR for part in parts if part.strip(_LF)]
        return self._split_mixed(buf)

    def _split_mixed(self, buf: bytes) -> list[bytes]:
        frames: list[bytes] = []
        start = 0
        while True:
            lf_lf = buf.find(b"\n\n", start)
            lf_crlf = buf.find(b"\n\r\n", start)
            if lf_lf < 0 and lf_crlf < 0:
                break
            if lf_crlf < 0 or 0 <= lf_lf < lf_crlf:
                at, end = lf_lf, lf_lf + 2
            else:
                at, end = lf_crlf, lf_crlf + 3
            content_end = at - 1 if at > start and buf[at - 1] == 13 else at  # 13: "\r"
            content = buf[start:content_end].lstrip(_NEWLINES)
            if content:
                frames.append(content + _TERMINATOR)
            start = end
        self._tail = buf[start:]
        return frames

    def remainder(self) -> bytes:
        """What was fed after the last complete frame (at the end of a stream: a cut-off frame)."""
        if self._pending:
            self._tail = b"".join((self._tail, *self._pending))
            self._pending.clear()
        return self._tail


# ---- classification ---------------------------------------------------------------------------


class _Function(msgspec.Struct):
    arguments: str | None = None


class _ToolCall(msgspec.Struct):
    function: _Function | None = None


class _Delta(msgspec.Struct):
    content: str | None = None
    reasoning: str | None = None
    tool_calls: list[_ToolCall] | None = None


class _Choice(msgspec.Struct):
    delta: _Delta | None = None
    text: str | None = None  # the legacy /completions stream


# Called with the answer's ``model`` (as sent: a str, JSON text or None) and the corrections made.
OddUsageReport = Callable[[object, tuple[str, ...]], None]

_MODEL_SHOWN_CHARS = 120


def _model_name(model: object) -> str:
    if isinstance(model, (msgspec.Raw, bytes)):
        try:
            model = _decode_any(bytes(model))
        except msgspec.DecodeError:
            model = None
    if not isinstance(model, str) or not model:
        return "(not named)"
    return model if len(model) <= _MODEL_SHOWN_CHARS else model[:_MODEL_SHOWN_CHARS] + "..."


def warn_odd_usage(model: object, notes: tuple[str, ...]) -> None:
    """The default report: one WARNING naming the model and each corrected field."""
    log.warning("the upstream reported odd usage for model %s; clamped: %s", _model_name(model), "; ".join(notes))


class WireUsage(msgspec.Struct):
    """An OpenAI/OpenRouter ``usage`` object, as far as billing reads it."""

    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cost: msgspec.Raw | msgspec.UnsetType = msgspec.UNSET  # the number's own text: dollars, exactly

    def to_usage(self, model: object = None, report: OddUsageReport = warn_odd_usage) -> Usage:
        return parse_usage(self.prompt_tokens, self.completion_tokens, self.cost, model, report)


class _Chunk(msgspec.Struct):
    choices: list[_Choice] | None = None
    usage: WireUsage | None = None
    error: msgspec.Raw | msgspec.UnsetType = msgspec.UNSET
    model: msgspec.Raw | msgspec.UnsetType = msgspec.UNSET  # decoded only to name it in a warning


_decode_chunk = msgspec.json.Decoder(_Chunk).decode
_decode_any = msgspec.json.Decoder().decode


def _cost_text(raw: msgspec.Raw | msgspec.UnsetType | bytes | None) -> str | None:
    """The cost as the upstream wrote it (a JSON string's content, or the JSON text), None when absent."""
    if raw is None or raw is msgspec.UNSET:
        return None
    text = bytes(raw).strip()
    if text == b"null" or not text:
        return None
    if text[:1] == b'"':  # a price sent as a string
        text = text[1:-1]
    return text.decode("utf-8", "replace")


def parse_usage(
    prompt_tokens: object,
    completion_tokens: object,
    cost: msgspec.Raw | msgspec.UnsetType | None,
    model: object = None,
    report: OddUsageReport = warn_odd_usage,
) -> Usage:
    """Usage within the domain's bounds (`domain.usage_bounds`); corrections go to ``report``."""
    usage, notes = bounded_usage(prompt_tokens, completion_tokens, _cost_text(cost))
    if notes:
        report(model, notes)
    return usage


def error_message(raw: msgspec.Raw | bytes) -> str | None:
    """The message of an ``error`` member: an object with ``message``, a bare string, or anything else."""
    try:
        value = _decode_any(bytes(raw))
    except msgspec.DecodeError:
        return "upstream error"
    if value is None:
        return None
    if isinstance(value, str):
        return value or "upstream error"
    if isinstance(value, dict):
        message = value.get("message")
        if isinstance(message, str) and message:
            return message
        return "upstream error"
    return str(value)


def _content_chars(choices: list[_Choice]) -> int:
    chars = 0
    for choice in choices:
        if choice.text:
            chars += len(choice.text)
        delta = choice.delta
        if delta is None:
            continue
        if delta.content:
            chars += len(delta.content)
        if delta.reasoning:
            chars += len(delta.reasoning)
        if delta.tool_calls:
            for call in delta.tool_calls:
                if call.function is not None and call.function.arguments:
                    chars += len(call.function.arguments)
    return chars


def _data_of(raw: bytes) -> bytes | None:
    """The event's data (several ``data:`` lines joined by LF), or None when it has none."""
    body = raw[:-2]  # without the terminator
    if body.startswith(_DATA_PREFIX) and _LF not in body:
        return body[6:]  # the common case: one "data: ..." line
    lines = []
    for line in body.split(_LF):
        if line.endswith(_CR):
            line = line[:-1]
        if line.startswith(b"data"):
            rest = line[4:]
            if rest[:1] == b":":
                rest = rest[1:]
                lines.append(rest[1:] if rest[:1] == b" " else rest)
            elif not rest:
                lines.append(b"")  # "data" alone: an empty data line
    if not lines:
        return None
    return _LF.join(lines)


def classify(raw: bytes, report: OddUsageReport = warn_odd_usage) -> StreamChunk:
    """What a frame (ending in ``\\n\\n``) carries. Comments and non-JSON data pass through as they are.

    Usage figures out of bounds are clamped and reported to ``report``.
    """
    if raw[:1] == b":":
        if raw.find(b"\ndata") < 0:
            return StreamChunk(raw)  # a comment such as ": OPENROUTER PROCESSING"
    data = _data_of(raw)
    if data is None:
        return StreamChunk(raw)
    if data == _DONE:
        return StreamChunk(raw, last=True)
    try:
        chunk = _decode_chunk(data)
    except msgspec.ValidationError:
        return _classify_loose(raw, data, report)
    except msgspec.DecodeError:
        return StreamChunk(raw)
    choices = chunk.choices
    chars = _content_chars(choices) if choices else 0
    usage = chunk.usage.to_usage(chunk.model, report) if chunk.usage is not None else None
    error = error_message(chunk.error) if chunk.error is not msgspec.UNSET else None
    if usage is None and error is None and not chars:
        return StreamChunk(raw)
    report_only = usage is not None and not choices
    return StreamChunk(raw, usage=usage, report_only=report_only, content_chars=chars, error=error)


def _classify_loose(raw: bytes, data: bytes, report: OddUsageReport) -> StreamChunk:
    """The same reading, for JSON whose fields do not have the expected types (a lenient upstream)."""
    try:
        obj = _decode_any(data)
    except msgspec.DecodeError:
        return StreamChunk(raw)
    if not isinstance(obj, dict):
        return StreamChunk(raw)
    choices = obj.get("choices")
    if not isinstance(choices, list):
        choices = []
    chars = 0
    for choice in choices:
        if not isinstance(choice, dict):
            continue
        text = choice.get("text")
        if isinstance(text, str):
            chars += len(text)
        delta = choice.get("delta")
        if isinstance(delta, dict):
            for name in ("content", "reasoning"):
                value = delta.get(name)
                if isinstance(value, str):
                    chars += len(value)
    usage = None
    raw_usage = obj.get("usage")
    if isinstance(raw_usage, dict):
        cost = raw_usage.get("cost")
        cost_raw = None if cost is None else msgspec.Raw(msgspec.json.encode(cost))
        usage = parse_usage(
            raw_usage.get("prompt_tokens"), raw_usage.get("completion_tokens"), cost_raw, obj.get("model"), report
        )
    error = None
    if obj.get("error") is not None:
        error = error_message(msgspec.json.encode(obj["error"]))
    report_only = usage is not None and not choices
    return StreamChunk(raw, usage=usage, report_only=report_only, content_chars=chars, error=error)
