"""A Postgres outage under a prepaid load: 200 or 503, never a 500; nothing billed twice or lost."""

from __future__ import annotations

import time

import httpx
from sqlalchemy.engine import make_url

from tests.fakes.upstream import FakeUpstreamHandle
from tests.integration.e2e.harness import Gateway
from tests.integration.e2e.ledger_probe import account_state
from tests.tcp_cut import TcpCut

GRANT_MICROS = 10_000_000


def test_a_database_outage_answers_503_and_loses_no_record_and_no_credit(
    upstream: FakeUpstreamHandle, pg_url: str
) -> None:
    direct = make_url(pg_url)
    relay = TcpCut(direct.host or "127.0.0.1", direct.port or 5432).restore()
    through_relay = direct.set(host="127.0.0.1", port=relay.port).render_as_string(hide_password=False)
    gw = Gateway(
        upstream.base_url,
        extra_env={
            "SLUICE_DATABASE_URL": through_relay,
            "SLUICE_KEY_PEPPER": "outage-pepper-0123456789abcdef",
            "SLUICE_KEY_CACHE_SECONDS": "1",
        },
    )
    gw.cli("migrate")
    gw.start()
    statuses: list[int] = []
    try:
        key = gw.new_key("paid")
        email = gw.last_email
        gw.cli("credits", "grant", email, "10")
        body = {"model": "qwen/qwen3-32b", "messages": [{"role": "user", "content": "hello"}]}
        with httpx.Client(timeout=15, headers={"Authorization": f"Bearer {key}"}) as client:

            def call() -> int:
                return client.post(gw.url() + "/chat/completions", json=body).status_code

            statuses += [call() for _ in range(5)]
            relay.cut()
            outage_ends = time.monotonic() + 4
            while time.monotonic() < outage_ends:
                statuses.append(call())
                time.sleep(0.05)
            relay.restore()
            recovered = time.monotonic() + 15
            while call() != 200 and time.monotonic() < recovered:
                time.sleep(0.2)
            statuses += [call() for _ in range(5)]
        time.sleep(0.6)  # the process pushes its counts twice a second
        metrics = httpx.get(gw.root + "/metrics").text
    finally:
        gw.stop()
    database_errors = [line for line in metrics.splitlines() if line.startswith("sluice_backend_errors_total")]
    assert any('backend="database"' in line and not line.endswith(" 0.0") for line in database_errors), metrics
    refused = sum(
        float(line.rsplit(" ", 1)[1])
        for line in metrics.splitlines()
        if line.startswith("sluice_requests_total{") and 'status="503"' in line and 'family="openai"' in line
    )
    assert refused == statuses.count(503)
    assert 500 not in statuses, statuses
    assert set(statuses) <= {200, 503}, statuses
    assert 503 in statuses  # the outage was seen (the key cache outlived, new leases could not be taken)
    state = account_state(pg_url, email)
    # Every answered request has exactly one record (records written after the outage, none twice),
    # every lease went back at shutdown, and the balance is the grant less what the records charged.
    assert state.records >= statuses.count(200) + 1  # the recovery loop's answered calls count too
    assert state.open_leases == 0
    assert state.balance_micros == state.entries_sum == GRANT_MICROS - state.charged_micros
