"""A fake OpenRouter upstream: a real HTTP/1.1 server on loopback, for integration tests and benchmarks.

Throughput: about 29,000 non-streaming chat completions/s on one core with keep-alive (details below).

Start it by hand::

    python -m tests.fakes.upstream --host 127.0.0.1 --port 9000 [--latency-ms N] [--chunks N] \\
        [--chunk-delay-ms N] [--api-key KEY] [--knobs '{"status": 503}']

or from a test, in a subprocess (so it shares neither the test's event loop nor its GIL)::

    with start_fake_upstream(chunks=3, api_key="sk-up") as upstream:
        httpx.post(f"{upstream.base_url}/chat/completions", ...)   # base_url = http://127.0.0.1:PORT/api/v1
        upstream.requests()[-1].json()      # what it received (RecordedRequest), last 200 kept
        upstream.stats()                    # open_connections, aborted_streams, completed_streams
        upstream.configure(status=503)      # server-wide knob change, until upstream.reset_config()

Endpoints, under both ``/api/v1`` and ``/v1``: POST chat/completions (JSON or SSE), GET models,
GET embeddings/models, POST embeddings, POST moderations. Control: GET|DELETE /_fake/requests,
GET /_fake/stats, GET|PUT|DELETE /_fake/config.

A chat request with "image" among its ``modalities`` (any model) is answered as OpenRouter answers
image generation: the text "Here is your image." and one 8x8 PNG as a data URL in
``message.images`` (streamed: the text, then ``delta.images`` in a frame of its own); the image
counts ``IMAGE_TOKENS`` (1290) completion tokens, priced like any other.

Numbers, all deterministic (``payloads.py``): prompt_tokens = characters of message text // 4 (at
least 1); the completion is ``chunks`` words "chunk0 chunk1 ..." and completion_tokens = chunks;
cost = prompt_tokens * 1e-6 + completion_tokens * 2e-6 dollars (``fake_cost``), the catalogue's
prices. Knobs (``knobs.py``), server-wide or per request in a top-level body field ``"fake": {...}``:
latency_ms, chunks, chunk_delay_ms, status, error_message, error_metadata, error_200_whitespace,
fail_after_chunks, mid_stream_error, hang, drop, split_frames, headers, cost, usage, system_fingerprint,
tool_call, reasoning. ``tool_call`` answers a request that has ``tools`` (and no ``tool`` message yet) with
a call, id ``call_<hex>`` and a ``reasoning_details`` signature ``sig-<hex>`` (``planned_tool_call``); its
stream splits the arguments over two frames. ``reasoning`` (or a request asking for reasoning) adds
``message.reasoning`` / ``delta.reasoning`` words, counted in completion_tokens and reasoning_tokens.
Model names ``fake/error-NNN`` and ``fake/hang`` trigger the same as status=NNN and hang=true.

Measured with wrk 4.1 on this project's 2-core machine, the fake pinned to core 0 and wrk to core 1
(``taskset -c 0 python -m tests.fakes.upstream --port 9100``; ``taskset -c 1 wrk -t1 -cN -d10s -s post.lua``,
post.lua POSTing a 1-message chat body with default knobs), uvloop 0.23 + httptools 0.9, Python 3.11:

- POST /api/v1/chat/completions, 64 connections: 29,500 req/s (mean latency 2.2 ms); 8 connections: 24,200 req/s;
- same, streaming with include_usage (9 SSE frames each): 7,700 streams/s;
- GET /api/v1/models (a 3.6 KB cached body): 84,000 req/s.

With other work sharing the machine, the 64-connection figure fell to ~25,000 req/s.
"""

from .handle import FakeUpstreamHandle, RecordedRequest, start_fake_upstream
from .knobs import KNOB_DEFAULTS, KNOBS
from .payloads import (
    CHAT_MODELS,
    EMBEDDING_MODELS,
    REASONING_TEXT,
    completion_text,
    completion_words,
    count_input_tokens,
    count_prompt_tokens,
    embedding_vector,
    fake_cost,
    planned_tool_call,
    reasoning_words,
)

__all__ = [
    "CHAT_MODELS",
    "EMBEDDING_MODELS",
    "KNOBS",
    "KNOB_DEFAULTS",
    "REASONING_TEXT",
    "FakeUpstreamHandle",
    "RecordedRequest",
    "completion_text",
    "completion_words",
    "count_input_tokens",
    "count_prompt_tokens",
    "embedding_vector",
    "fake_cost",
    "planned_tool_call",
    "reasoning_words",
    "start_fake_upstream",
]
