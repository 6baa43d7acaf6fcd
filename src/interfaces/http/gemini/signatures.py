"""Thought signatures: OpenRouter's ``reasoning_details`` <-> Gemini's ``thoughtSignature``.

A Gemini client hands back, on the next turn, the ``thoughtSignature`` of each part of the model's
answer; OpenRouter wants the model's ``reasoning_details`` back on the assistant message, unchanged.
A ``thoughtSignature`` is bytes (base64 in JSON, and google-genai decodes it and re-encodes it with
the URL-safe alphabet), so what we give out must survive that round trip exactly:

- One ``reasoning.encrypted`` entry of format ``google-gemini-v1`` whose data is canonical standard
  base64 (what Google issues) goes out *verbatim*: the client sees Google's own signature. Coming
  back it is decoded (either alphabet, padding optional) and re-encoded in standard base64, which
  restores the exact text OpenRouter sent.
- Anything else (several entries on one part, another format such as Anthropic's signed
  ``reasoning.text``, data that is not canonical base64, an ``id`` that is not the part's call id)
  goes out as an *envelope*: standard base64 of ``MAGIC + JSON array of the entries``. Coming back,
  the entries are restored as they were (only ``index`` is renumbered).

Entries that carry no state (plain ``reasoning.text`` without a signature, ``reasoning.summary``)
are not carried: the reasoning text itself is shown as ``thought`` parts when asked for.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

import msgspec

GEMINI_FORMAT = "google-gemini-v1"
ENCRYPTED = "reasoning.encrypted"
# Google's documented value for "no signature, skip the check"; it is not base64 of anything useful.
SKIP_VALIDATOR = "skip_thought_signature_validator"
_SKIP_BYTES = SKIP_VALIDATOR.encode()
MAGIC = b"\x00sluice-rd1\x00"
_URLSAFE_TO_STANDARD = bytes.maketrans(b"-_", b"+/")

_encode = msgspec.json.encode
_decode = msgspec.json.decode


def carries_state(detail: Any) -> bool:
    """Whether a reasoning_details entry must go back upstream on the next turn."""
    if not isinstance(detail, dict):
        return False
    if detail.get("type") == ENCRYPTED:
        return True
    signature = detail.get("signature")
    return isinstance(signature, str) and bool(signature)


def _is_canonical_base64(data: str) -> bool:
    if not data or len(data) % 4 or not data.isascii():
        return False
    try:
        return base64.b64encode(base64.b64decode(data, validate=True)).decode("ascii") == data
    except (binascii.Error, ValueError):
        return False


def _lenient_b64decode(text: str) -> bytes | None:
    raw = text.strip().encode("ascii", "ignore").translate(_URLSAFE_TO_STANDARD).rstrip(b"=")
    raw += b"=" * (-len(raw) % 4)
    try:
        return base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        return None


def encode_signature(details: list[dict[str, Any]], call_id: str | None) -> str:
    """The ``thoughtSignature`` for a part that carries ``details`` (non-empty, in upstream order)."""
    if len(details) == 1:
        detail = details[0]
        data = detail.get("data")
        if (
            detail.get("type") == ENCRYPTED
            and detail.get("format", GEMINI_FORMAT) in (GEMINI_FORMAT, None)
            and detail.get("id") in (None, call_id)
            and isinstance(data, str)
            and (data == SKIP_VALIDATOR or _is_canonical_base64(data))
        ):
            return data
    return base64.b64encode(MAGIC + _encode(details)).decode("ascii")


def decode_signature(signature: str, call_id: str | None) -> list[dict[str, Any]]:
    """The reasoning_details entries a ``thoughtSignature`` stands for (their ``index`` is the caller's)."""
    raw = _lenient_b64decode(signature)
    if raw is not None and raw.startswith(MAGIC):
        try:
            details = _decode(raw[len(MAGIC) :])
        except (msgspec.DecodeError, RecursionError):
            details = None
        if isinstance(details, list) and details and all(isinstance(d, dict) for d in details):
            return details
    if signature == SKIP_VALIDATOR or raw == _SKIP_BYTES:
        data = SKIP_VALIDATOR
    elif raw is not None:
        data = base64.b64encode(raw).decode("ascii")
    else:
        data = signature  # not base64 at all: the client's own text, passed on as it is
    return [{"type": ENCRYPTED, "data": data, "id": call_id, "format": GEMINI_FORMAT}]


def place_details(
    details: list[dict[str, Any]], call_ids: list[str]
) -> tuple[dict[str, list[dict[str, Any]]], list[dict[str, Any]]]:
    """Share state-carrying entries out: those whose ``id`` is a call's go on that call's part, the
    rest (in order) on the first functionCall part, or on a text part when there is no call."""
    by_call: dict[str, list[dict[str, Any]]] = {}
    rest: list[dict[str, Any]] = []
    ids = set(call_ids)
    for detail in details:
        if not carries_state(detail):
            continue
        detail_id = detail.get("id")
        if isinstance(detail_id, str) and detail_id in ids:
            by_call.setdefault(detail_id, []).append(detail)
        else:
            rest.append(detail)
    if rest and call_ids:
        by_call.setdefault(call_ids[0], []).extend(rest)
        rest = []
    return by_call, rest
