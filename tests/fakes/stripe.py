"""A fake Stripe: a real HTTP server on loopback speaking the part of Stripe's API that Sluice uses.

    with start_fake_stripe(api_key="sk_test_fake") as stripe:
        # point SLUICE_STRIPE_API_BASE at stripe.base_url
        stripe.sessions["cs_test_..."]      # every checkout session created, as Stripe would return it
        stripe.fail_next(500)               # the next API call answers this status with a Stripe error

Endpoints: POST /v1/checkout/sessions (form-encoded, as the SDK sends it; Bearer key checked) and
GET /pay/<session id> (where the session's `url` points: a page standing in for the hosted checkout).

Webhooks are built here the way Stripe builds them, independently of the SDK under test:
`checkout_event(session, ...)` makes the event body and `signature_header(payload, secret)` the
`Stripe-Signature` value `t=<unix time>,v1=<hex HMAC-SHA256(secret, f"{t}.{payload}")>`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl


def signature_header(payload: bytes | str, secret: str, timestamp: int | None = None) -> str:
    text = payload.decode() if isinstance(payload, bytes) else payload
    t = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{t}.{text}".encode(), hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def checkout_event(
    session: dict[str, Any],
    *,
    event_type: str = "checkout.session.completed",
    payment_status: str = "paid",
    amount_total: int | None = None,
    currency: str | None = None,
    event_id: str | None = None,
) -> bytes:
    """A webhook body for `session` (as the fake created it), with the fields Stripe would send."""
    obj = {
        **session,
        "status": "expired" if event_type == "checkout.session.expired" else "complete",
        "payment_status": payment_status,
        "amount_total": session["amount_total"] if amount_total is None else amount_total,
        "currency": currency or session["currency"],
    }
    event = {
        "id": event_id or "evt_" + secrets.token_hex(12),
        "object": "event",
        "api_version": "2025-01-27.acacia",
        "created": int(time.time()),
        "livemode": False,
        "pending_webhooks": 1,
        "type": event_type,
        "data": {"object": obj},
    }
    return json.dumps(event).encode()


def _stripe_error(status: int, message: str, kind: str = "invalid_request_error") -> tuple[int, dict[str, Any]]:
    return status, {"error": {"type": kind, "message": message}}


@dataclass
class FakeStripe:
    api_key: str
    base_url: str = ""
    sessions: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: list[dict[str, str]] = field(default_factory=list)  # form fields of each API call
    _fail: list[int] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def fail_next(self, status: int) -> None:
        with self._lock:
            self._fail.append(status)

    def _create_session(self, headers: Any, body: bytes) -> tuple[int, dict[str, Any]]:
        form = dict(parse_qsl(body.decode(), keep_blank_values=True))
        with self._lock:
            self.calls.append(form)
            failing = self._fail.pop(0) if self._fail else None
        if failing is not None:
            return _stripe_error(failing, "the fake was told to fail", "api_error")
        if headers.get("Authorization") != f"Bearer {self.api_key}":
            return _stripe_error(401, "Invalid API Key provided")
        try:
            amount = int(form["line_items[0][price_data][unit_amount]"]) * int(form.get("line_items[0][quantity]", "1"))
            currency = form["line_items[0][price_data][currency]"]
            success_url, cancel_url = form["success_url"], form["cancel_url"]
        except (KeyError, ValueError):
            return _stripe_error(400, "Missing required param: line_items, success_url or cancel_url.")
        if form.get("mode") != "payment":
            return _stripe_error(400, "mode must be payment")
        session_id = "cs_test_" + secrets.token_hex(16)
        session = {
            "id": session_id,
            "object": "checkout.session",
            "mode": "payment",
            "status": "open",
            "payment_status": "unpaid",
            "amount_total": amount,
            "currency": currency,
            "client_reference_id": form.get("client_reference_id"),
            "metadata": {k[9:-1]: v for k, v in form.items() if k.startswith("metadata[")},
            "success_url": success_url,
            "cancel_url": cancel_url,
            "url": f"{self.base_url}/pay/{session_id}",
            "livemode": False,
        }
        with self._lock:
            self.sessions[session_id] = session
        return 200, session


def _handler(fake: FakeStripe) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass  # quiet: the tests read `calls` and `sessions`

        def _send(self, status: int, body: bytes, content_type: str = "application/json") -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Request-Id", "req_" + secrets.token_hex(6))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.path.split("?")[0] != "/v1/checkout/sessions":
                status, reply = _stripe_error(404, f"Unrecognized request URL (POST: {self.path}).")
            else:
                status, reply = fake._create_session(self.headers, body)
            self._send(status, json.dumps(reply).encode())

        def do_GET(self) -> None:
            session = fake.sessions.get(self.path.removeprefix("/pay/"))
            if not self.path.startswith("/pay/") or session is None:
                self._send(404, b"no such checkout", "text/plain")
                return
            page = f"<!doctype html><title>Fake Stripe Checkout</title><p>Pay {session['amount_total']} cents</p>"
            self._send(200, page.encode(), "text/html; charset=utf-8")

    return Handler


@contextmanager
def start_fake_stripe(api_key: str = "sk_test_fake") -> Iterator[FakeStripe]:
    fake = FakeStripe(api_key)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    server.daemon_threads = True
    fake.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, name="fake-stripe", daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
