"""The fake upstream's knobs: server-wide defaults, overridable per request with a body field ``"fake"``."""

from __future__ import annotations

from typing import Any

_NUMBER = (int, float)
_NONE = type(None)

# name: (default, accepted types, what it does)
KNOBS: dict[str, tuple[Any, tuple[type, ...], str]] = {
    "latency_ms": (0, _NUMBER, "delay before the response headers"),
    "chunks": (5, (int,), "completion words, one SSE content frame each; completion_tokens = chunks"),
    "chunk_delay_ms": (0, _NUMBER, "pause before each SSE frame"),
    "status": (200, (int,), "any other status: OpenRouter's error body with that HTTP status"),
    "error_message": ("Fake upstream error", (str,), "message of the error bodies the knobs cause"),
    "error_metadata": (None, (dict, _NONE), "replaces the error body's metadata object"),
    "error_200_whitespace": (False, (bool,), "200 whose body is whitespace then an error JSON (code 502)"),
    "fail_after_chunks": (None, (int, _NONE), "streaming: N content frames, then the connection closes"),
    "mid_stream_error": (False, (bool, int), "streaming: an error frame then [DONE]; true = after chunks//2"),
    "hang": (False, (bool,), "read the request and never answer"),
    "drop": (False, (bool,), "read the request and close the connection without answering"),
    "split_frames": (False, (bool,), "streaming: each SSE frame is cut in two writes inside the JSON"),
    "headers": ({}, (dict,), "extra response headers, e.g. {'Retry-After': '3'}"),
    "cost": (None, (int, float, _NONE), "replaces usage.cost (dollars)"),
    "usage": (None, (dict, _NONE), "merged over the usage object, any JSON values: {'cost': -5, 'prompt_tokens': 'x'}"),
    "system_fingerprint": (None, (str, _NONE), "a string adds system_fingerprint to chat bodies"),
    "tool_call": (
        None,
        (bool, dict, _NONE),
        "chat with tools and no tool message yet: a tool call (finish_reason tool_calls) signed in reasoning_details;"
        " {'name': 'get_weather', 'arguments': {...} or raw text}, true = the first tool with {}",
    ),
    "reasoning": (
        False,
        (bool, str),
        "chat: reasoning text (delta.reasoning); true = REASONING_TEXT; also on when asked",
    ),
}

KNOB_DEFAULTS: dict[str, Any] = {name: spec[0] for name, spec in KNOBS.items()}


def check_knobs(knobs: Any) -> str | None:
    """Why ``knobs`` is not a valid set of overrides, or None when it is."""
    if not isinstance(knobs, dict):
        return "fake: expected an object"
    for name, value in knobs.items():
        spec = KNOBS.get(name)
        if spec is None:
            return f"fake: unknown knob {name!r} (known: {', '.join(KNOBS)})"
        types = spec[1]
        # bool is an int to Python; a flag passed where a number is meant is a test bug.
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
            return f"fake: knob {name!r} has the wrong type: {value!r}"
        if name != "cost" and isinstance(value, (int, float)) and not isinstance(value, bool) and value < 0:
            return f"fake: knob {name!r} must not be negative"
    return None
