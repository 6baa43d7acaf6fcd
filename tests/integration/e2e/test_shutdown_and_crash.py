"""Exactly-once across a SIGTERM that cuts streams and a SIGKILL that leaves a lease behind (Postgres)."""

from __future__ import annotations

import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.fakes.upstream import FakeUpstreamHandle
from tests.integration.e2e.harness import Gateway
from tests.integration.e2e.ledger_probe import account_state

GRANT = "10"
GRANT_MICROS = 10_000_000


def _gateway(upstream: FakeUpstreamHandle, pg_url: str, **env: str) -> Gateway:
    gw = Gateway(
        upstream.base_url,
        extra_env={"SLUICE_DATABASE_URL": pg_url, "SLUICE_KEY_PEPPER": "crash-pepper-0123456789abcdef", **env},
    )
    gw.cli("migrate")
    return gw


def _stream(gw: Gateway, key: str, chunks: int, delay_ms: int) -> int:
    """Reads a stream until it ends or the gateway goes away; returns the bytes received."""
    body = {
        "model": "qwen/qwen3-32b",
        "stream": True,
        "messages": [{"role": "user", "content": "tell me a long story"}],
        "fake": {"chunks": chunks, "chunk_delay_ms": delay_ms},
    }
    received = 0
    try:
        with httpx.stream(
            "POST", gw.url() + "/chat/completions", json=body, headers={"Authorization": f"Bearer {key}"}, timeout=30
        ) as response:
            assert response.status_code == 200
            for chunk in response.iter_bytes():
                received += len(chunk)
    except httpx.HTTPError:
        pass  # cut by the shutdown: expected
    return received


def test_sigterm_at_the_grace_deadline_bills_every_cut_stream_and_returns_every_lease(
    upstream: FakeUpstreamHandle, pg_url: str
) -> None:
    gw = _gateway(upstream, pg_url, SLUICE_GRACEFUL_SECONDS="3")
    gw.start()
    try:
        key = gw.new_key("paid")
        email = gw.last_email
        gw.cli("credits", "grant", email, GRANT)
        with ThreadPoolExecutor(40) as pool:
            futures = [pool.submit(_stream, gw, key, 80, 100) for _ in range(40)]
            time.sleep(2)
            assert gw.process is not None
            gw.process.send_signal(signal.SIGTERM)
            received = [f.result() for f in futures]
        gw.process.wait(timeout=30)
    finally:
        gw.stop()
    assert all(received), "every stream had started before the signal"
    state = account_state(pg_url, email)
    assert state.records == 40, f"{40 - state.records} cut streams left no usage record"
    assert state.open_leases == 0, "a credit lease is still held after the shutdown"
    # Every stream was cut before its usage frame and billed for what was relayed.
    assert all(tokens > 0 for tokens in state.completion_tokens), state.completion_tokens
    assert state.balance_micros == state.entries_sum == GRANT_MICROS - state.charged_micros


def test_sigkill_leaves_no_credit_behind_after_the_lease_expires(upstream: FakeUpstreamHandle, pg_url: str) -> None:
    gw = _gateway(upstream, pg_url, SLUICE_LEASE_SECONDS="2")
    gw.start()
    key = gw.new_key("paid")
    email = gw.last_email
    gw.cli("credits", "grant", email, GRANT)
    body = {"model": "qwen/qwen3-32b", "messages": [{"role": "user", "content": "hello"}]}
    with httpx.Client(timeout=10) as client:
        for _ in range(10):
            assert client.post(gw.url() + "/chat/completions", json=body, headers={"Authorization": f"Bearer {key}"})
        # A stream holding the lease at the moment of the kill.
        held = threading.Thread(target=_stream, args=(gw, key, 50, 100))
        held.start()
        time.sleep(1.0)  # the ten records are flushed (every 0.2 s); the stream is half way
        gw.stop(signal.SIGKILL)
        held.join()
    killed = account_state(pg_url, email)
    assert killed.open_leases == 1
    assert killed.balance_micros < GRANT_MICROS - killed.charged_micros  # the lease is held in the ledger

    listing = gw.cli("credits", "leases").stdout
    assert email in listing
    assert "held in 1 open lease(s)" in gw.cli("credits", "balance", email).stderr
    time.sleep(2.5)  # the lease's expiry passes: nobody renews it
    first = gw.cli("credits", "reconcile")
    again = gw.cli("credits", "reconcile")
    assert "returned 1" in first.stdout + first.stderr
    assert "returned 0" in again.stdout + again.stderr

    state = account_state(pg_url, email)
    assert state.open_leases == 0
    assert state.records >= 10  # the ten answered requests; the killed stream's record may be lost with it
    # What went back is the lease minus what its records show as spent: nothing stranded, nothing doubled.
    assert state.balance_micros == state.entries_sum == GRANT_MICROS - state.charged_micros


def test_the_next_process_returns_the_expired_lease_of_a_dead_one(upstream: FakeUpstreamHandle, pg_url: str) -> None:
    gw = _gateway(upstream, pg_url, SLUICE_LEASE_SECONDS="2")
    gw.start()
    key = gw.new_key("paid")
    email = gw.last_email
    gw.cli("credits", "grant", email, GRANT)
    held = threading.Thread(target=_stream, args=(gw, key, 50, 100))
    held.start()
    time.sleep(1.0)
    gw.stop(signal.SIGKILL)
    held.join()
    assert account_state(pg_url, email).open_leases == 1
    time.sleep(2.5)
    gw.start()  # its start-up sweep returns what the dead process held
    try:
        deadline = time.monotonic() + 10
        while account_state(pg_url, email).open_leases and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        gw.stop()
    state = account_state(pg_url, email)
    assert state.open_leases == 0
    assert state.balance_micros == GRANT_MICROS - state.charged_micros


def test_a_live_process_keeps_its_lease_past_the_expiry(upstream: FakeUpstreamHandle, pg_url: str) -> None:
    gw = _gateway(upstream, pg_url, SLUICE_LEASE_SECONDS="2")
    gw.start()
    try:
        key = gw.new_key("paid")
        email = gw.last_email
        gw.cli("credits", "grant", email, GRANT)
        held = threading.Thread(target=_stream, args=(gw, key, 50, 100))  # ~5 s with the lease held
        held.start()
        time.sleep(3.5)
        result = gw.cli("credits", "reconcile")
        assert "returned 0" in result.stdout + result.stderr  # renewed while its process lives
        assert account_state(pg_url, email).open_leases == 1
        held.join()
    finally:
        gw.stop()
    state = account_state(pg_url, email)
    assert state.open_leases == 0
    assert state.records == 1
    assert state.completion_tokens == [50]
    assert state.balance_micros == GRANT_MICROS - state.charged_micros
