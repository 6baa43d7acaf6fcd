"""What the tracing tests share: the models they ask for, a fresh traceparent, finding spans in a trace."""

from __future__ import annotations

import secrets

import httpx
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanKind

from tests.integration.telemetry.conftest import InProcess

CHAT_MODEL = "openai/gpt-4o-mini"
EMBEDDING_MODEL = "openai/text-embedding-3-small"
IMAGE_MODEL = "google/gemini-2.5-flash-image"
GEMINI_MODEL = "qwen/qwen3-32b"
CHAT = "/proxy/v1/chat/completions"


def traceparent() -> tuple[str, int, int]:
    trace_id, span_id = secrets.randbits(128) | 1, secrets.randbits(64) | 1
    return f"00-{trace_id:032x}-{span_id:016x}-01", trace_id, span_id


def send(gateway: InProcess, path: str, key: str | None, body: dict | None = None, **headers: str) -> tuple:
    header, trace_id, parent_id = traceparent()
    sent = {"traceparent": header, **headers}
    if key is not None:
        sent["Authorization"] = f"Bearer {key}"
    answer = httpx.post(gateway.root + path, json=body, headers=sent, timeout=30)
    return answer, gateway.spans_of(trace_id), parent_id


def one(spans: list[ReadableSpan], kind: SpanKind, prefix: str = "") -> ReadableSpan:
    found = [s for s in spans if s.kind is kind and s.name.startswith(prefix)]
    assert len(found) == 1, [(s.kind, s.name) for s in spans]
    return found[0]


def server_of(spans: list[ReadableSpan]) -> ReadableSpan:
    return one(spans, SpanKind.SERVER)


def descends_from(span: ReadableSpan, ancestor: ReadableSpan, spans: list[ReadableSpan]) -> bool:
    by_id = {s.context.span_id: s for s in spans}
    parent = span.parent
    while parent is not None:
        if parent.span_id == ancestor.context.span_id:
            return True
        above = by_id.get(parent.span_id)
        parent = above.parent if above is not None else None
    return False
