"""The SSE splitter and classifier: any chunking of a stream gives the same frames, read the same way."""

import itertools
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from application.ports.upstream import StreamChunk
from domain.pricing import Usage
from infrastructure.upstream.sse import SseSplitter, classify


def split_all(chunks: list[bytes]) -> list[bytes]:
    splitter = SseSplitter()
    frames: list[bytes] = []
    for chunk in chunks:
        frames.extend(splitter.feed(chunk))
    return frames


def cut(data: bytes, points: list[int]) -> list[bytes]:
    points = sorted({p for p in points if 0 < p < len(data)})
    edges = [0, *points, len(data)]
    return [data[a:b] for a, b in itertools.pairwise(edges)]


def data_frame(obj: object) -> bytes:
    return b"data: " + json.dumps(obj, separators=(",", ":")).encode() + b"\n\n"


def chunk_obj(content: str | None = None, **extra: object) -> dict:
    choices = [] if content is None else [{"index": 0, "delta": {"content": content}, "finish_reason": None}]
    return {"id": "gen-1", "object": "chat.completion.chunk", "choices": choices, **extra}


# ---- splitter --------------------------------------------------------------------------------


def test_splits_frames_and_keeps_the_remainder() -> None:
    splitter = SseSplitter()
    assert splitter.feed(b"data: a\n\ndata: b\n\ndata: c") == [b"data: a\n\n", b"data: b\n\n"]
    assert splitter.remainder() == b"data: c"
    assert splitter.feed(b"\n") == []
    assert splitter.feed(b"\n") == [b"data: c\n\n"]
    assert splitter.remainder() == b""


def test_crlf_terminators_are_normalized_but_the_inside_is_kept() -> None:
    stream = b"data: a\r\n\r\nevent: x\r\ndata: b\r\n\r\ndata: c\r\n\ndata: d\n\r\n"
    assert split_all([stream]) == [b"data: a\n\n", b"event: x\r\ndata: b\n\n", b"data: c\n\n", b"data: d\n\n"]


def test_a_crlf_terminator_cut_in_every_place() -> None:
    stream = b"data: a\r\n\r\ndata: b\r\n\r\n"
    for at in range(1, len(stream)):
        assert split_all([stream[:at], stream[at:]]) == [b"data: a\n\n", b"data: b\n\n"], at


def test_stray_blank_lines_make_no_frames() -> None:
    assert split_all([b"\n\n\n\ndata: a\n\n\n\n\ndata: b\n\n"]) == [b"data: a\n\n", b"data: b\n\n"]
    assert split_all([b"\r\n\r\n", b"data: a\r\n\r\n\r\n"]) == [b"data: a\n\n"]


def test_byte_by_byte_and_a_large_frame_in_many_reads() -> None:
    big = b"data: " + b"x" * 200_000 + b"\n\n"
    stream = b": OPENROUTER PROCESSING\n\n" + big + b"data: [DONE]\n\n"
    expected = [b": OPENROUTER PROCESSING\n\n", big, b"data: [DONE]\n\n"]
    assert split_all([stream[i : i + 1000] for i in range(0, len(stream), 1000)]) == expected
    small = b"data: a\n\ndata: b\r\n\r\n: c\n\n"
    assert split_all([bytes([b]) for b in small]) == [b"data: a\n\n", b"data: b\n\n", b": c\n\n"]


_line = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\r\n"), min_size=1, max_size=30).map(
    lambda s: s.encode()
)
_eol = st.sampled_from([b"\n", b"\r\n"])


@st.composite
def sse_streams(draw: st.DrawFn) -> tuple[bytes, list[bytes]]:
    """A stream of frames with mixed line endings, and the frames it must split into."""
    stream = b""
    frames: list[bytes] = []
    for _ in range(draw(st.integers(0, 8))):
        stream += b"".join(draw(st.lists(_eol, max_size=2)))  # stray blank lines
        lines = draw(st.lists(_line, min_size=1, max_size=4))
        eols = [draw(_eol) for _ in lines]
        body = b"".join(line + eol for line, eol in zip(lines, eols, strict=True))
        stream += body + draw(_eol)
        content = body[: -len(eols[-1])]
        frames.append(content + b"\n\n")
    return stream, frames


@settings(max_examples=400, deadline=None)
@given(sse_streams(), st.lists(st.integers(0, 2000), max_size=25))
def test_any_chunking_gives_the_same_frames(case: tuple[bytes, list[bytes]], points: list[int]) -> None:
    stream, expected = case
    assert split_all([stream]) == expected
    assert split_all(cut(stream, points)) == expected


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300), st.lists(st.integers(0, 300), max_size=20))
def test_any_bytes_any_chunking_same_frames(stream: bytes, points: list[int]) -> None:
    whole = SseSplitter()
    frames = whole.feed(stream)
    pieces = SseSplitter()
    assert [f for c in cut(stream, points) for f in pieces.feed(c)] == frames
    assert pieces.remainder() == whole.remainder()
    assert all(f.endswith(b"\n\n") and not f.startswith((b"\n", b"\r")) for f in frames)


# ---- classifier ------------------------------------------------------------------------------


def test_comment_passes_through() -> None:
    raw = b": OPENROUTER PROCESSING\n\n"
    assert classify(raw) == StreamChunk(raw)


def test_done() -> None:
    assert classify(b"data: [DONE]\n\n") == StreamChunk(b"data: [DONE]\n\n", last=True)
    assert classify(b"data:[DONE]\n\n").last


def test_content_frame_counts_characters() -> None:
    raw = data_frame(chunk_obj("héllo wörld"))
    frame = classify(raw)
    assert frame.raw == raw
    assert frame.content_chars == 11
    assert frame.usage is None and not frame.report_only and frame.error is None and not frame.last


def test_reasoning_tool_arguments_and_legacy_text_count_too() -> None:
    obj = {
        "choices": [
            {"delta": {"content": "ab", "reasoning": "cde", "tool_calls": [{"function": {"arguments": "{}"}}]}},
            {"text": "xyz"},
        ]
    }
    assert classify(data_frame(obj)).content_chars == 2 + 3 + 2 + 3


def test_report_only_frame() -> None:
    usage = {"prompt_tokens": 12, "completion_tokens": 5, "total_tokens": 17, "cost": 0.000022}
    frame = classify(data_frame(chunk_obj(None, usage=usage)))
    assert frame.usage == Usage(prompt_tokens=12, completion_tokens=5, cost_micros=22)
    assert frame.report_only
    assert frame.content_chars == 0


def test_usage_on_a_content_frame_is_not_report_only() -> None:
    frame = classify(data_frame(chunk_obj("hi", usage={"prompt_tokens": 1, "completion_tokens": 1})))
    assert frame.usage == Usage(1, 1, None)
    assert not frame.report_only
    assert frame.content_chars == 2


def test_cost_is_read_exactly_from_the_json_text() -> None:
    raw = b'data: {"choices":[],"usage":{"prompt_tokens":1,"completion_tokens":2,"cost":1.2345675e-3}}\n\n'
    assert classify(raw).usage == Usage(1, 2, 1235)  # 1234.5675 micros, half up
    raw = b'data: {"choices":[],"usage":{"prompt_tokens":1,"completion_tokens":2,"cost":"0.5"}}\n\n'
    assert classify(raw).usage == Usage(1, 2, 500_000)
    raw = b'data: {"choices":[],"usage":{"prompt_tokens":1,"completion_tokens":2,"cost":null}}\n\n'
    assert classify(raw).usage == Usage(1, 2, None)


def test_mid_stream_error_frame() -> None:
    obj = {
        "error": {"message": "Provider disconnected", "code": 502},
        "choices": [{"index": 0, "delta": {"content": ""}, "finish_reason": "error"}],
    }
    frame = classify(data_frame(obj))
    assert frame.error == "Provider disconnected"
    assert not frame.report_only
    assert classify(data_frame({"error": "plain words"})).error == "plain words"
    assert classify(data_frame({"error": None, "choices": []})).error is None


def test_loose_types_are_still_read() -> None:
    raw = data_frame({"choices": [], "usage": {"prompt_tokens": 3.0, "completion_tokens": "x", "cost": 0.25}})
    frame = classify(raw)
    assert frame.usage == Usage(3, 0, 250_000)
    assert frame.report_only


@pytest.mark.parametrize(
    "raw",
    [b"data: not json\n\n", b"data: [1,2]\n\n", b"event: ping\n\n", b"data: {}\n\n", b'data: {"choices":[]}\n\n'],
)
def test_frames_with_nothing_to_meter(raw: bytes) -> None:
    assert classify(raw) == StreamChunk(raw)


def test_multi_line_data_and_crlf_inside() -> None:
    raw = b'event: message\r\ndata: {"choices":[{"delta":\r\ndata: {"content":"abc"}}]}\n\n'
    frame = classify(raw)
    assert frame.raw == raw
    assert frame.content_chars == 3


def test_comment_then_data_in_one_frame() -> None:
    raw = b': keep-alive\ndata: {"choices":[{"delta":{"content":"abcd"}}]}\n\n'
    assert classify(raw).content_chars == 4
