"""Known traffic through a deployment-shaped gateway (Postgres, Redis, two workers, metrics on their
own port), then the scrape, the request log and the usage records read back and compared.

Every metric the dashboards and alert rules in deploy/ read must be in the scrape, and the ones
the traffic touches must have moved by exactly what was sent (or what the ledger recorded).
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.fakes.upstream import FakeUpstreamHandle
from tests.integration.e2e.harness import REPO_ROOT, Gateway, free_port
from tests.integration.e2e.ledger_probe import _dsn

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]
HELLO = {"model": "qwen/qwen3-32b", "messages": [{"role": "user", "content": "hello"}]}


@pytest.fixture(scope="module")
def observed(upstream: FakeUpstreamHandle, postgres_base_url: str, redis_url: str) -> Iterator[Gateway]:
    from tests.conftest import _create_database, _drop_database

    url, name = asyncio.run(_create_database(postgres_base_url))
    metrics_port = free_port()
    gw = Gateway(
        upstream.base_url,
        extra_env={
            "SLUICE_DATABASE_URL": url,
            "SLUICE_REDIS_URL": redis_url,
            "SLUICE_KEY_PEPPER": "observed-pepper-0123456789",
            "SLUICE_WORKERS": "2",
            "SLUICE_METRICS_PORT": str(metrics_port),
        },
    )
    gw.metrics_url = f"http://127.0.0.1:{metrics_port}/metrics"  # type: ignore[attr-defined]
    gw.database_url = url  # type: ignore[attr-defined]
    gw.cli("migrate")
    gw.start()
    try:
        yield gw
    finally:
        gw.stop()
        asyncio.run(_drop_database(postgres_base_url, name))


def scrape(gw: Gateway) -> Samples:
    text = httpx.get(gw.metrics_url, timeout=5).text  # type: ignore[attr-defined]
    samples: Samples = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            samples[(s.name, frozenset(s.labels.items()))] = s.value
    return samples


def total(samples: Samples, name: str, **labels: str) -> float:
    wanted = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and wanted <= ls)


def delta(before: Samples, after: Samples, name: str, **labels: str) -> float:
    return total(after, name, **labels) - total(before, name, **labels)


def _records(url: str) -> list[asyncpg.Record]:
    async def read() -> list[asyncpg.Record]:
        conn = await asyncpg.connect(_dsn(url))
        try:
            return await conn.fetch(
                "SELECT id, account_id, prompt_tokens, completion_tokens, cost_micros, charged_micros"
                " FROM usage_records"
            )
        finally:
            await conn.close()

    return asyncio.run(read())


def _send_known_traffic(gw: Gateway) -> dict[str, list[httpx.Response]]:
    ok = {"Authorization": f"Bearer {gw.new_key()}"}
    tiny = {"Authorization": f"Bearer {gw.new_key('tiny')}"}
    paid_key = gw.new_key("paid")
    gw.cli("credits", "grant", gw.last_email, "3", "--note", "observability test")
    paid = {"Authorization": f"Bearer {paid_key}"}
    chat = gw.url() + "/chat/completions"
    with httpx.Client(timeout=10) as client:
        sent: dict[str, list[httpx.Response]] = {
            "ok": [client.post(chat, json=HELLO, headers=ok) for _ in range(3)],
            "unauthorized": [
                client.post(chat, json=HELLO, headers={"Authorization": "Bearer sk-sluice-nope"}) for _ in range(2)
            ],
            "tiny": [client.post(chat, json=HELLO, headers=tiny) for _ in range(5)],
            "upstream_500": [client.post(chat, json={**HELLO, "fake": {"status": 500}}, headers=ok)],
            "upstream_dropped": [client.post(chat, json={**HELLO, "fake": {"drop": True}}, headers=ok)],
            "paid": [client.post(chat, json=HELLO, headers=paid)],
            "gemini": [
                client.post(
                    gw.root + "/v1beta/models/qwen/qwen3-32b:generateContent",
                    json={"contents": [{"parts": [{"text": "hello"}]}]},
                    headers={"x-goog-api-key": ok["Authorization"].removeprefix("Bearer ")},
                )
            ],
            "credits": [client.post(gw.root + "/api/v1/chat", json=HELLO, headers=paid)],
        }
        with client.stream("POST", chat, json={**HELLO, "stream": True}, headers=ok) as streamed:
            streamed.read()
        sent["stream"] = [streamed]
    return sent


def _settled(gw: Gateway, before: Samples, requests: int) -> Samples:
    """The scrape once every request is counted (a request is reported once its usage is settled)."""
    deadline = time.monotonic() + 10
    while True:
        after = scrape(gw)
        counted = (
            delta(before, after, "sluice_requests_total", family="openai")
            + delta(before, after, "sluice_requests_total", family="gemini")
            + delta(before, after, "sluice_requests_total", family="credits")
        )
        if counted >= requests or time.monotonic() > deadline:
            return after
        time.sleep(0.1)


@pytest.fixture(scope="module")
def traffic(observed: Gateway) -> tuple[dict[str, list[httpx.Response]], Samples, Samples]:
    before = scrape(observed)
    sent = _send_known_traffic(observed)
    _settled(observed, before, sum(len(r) for r in sent.values()))
    time.sleep(0.6)  # the gauges are pushed twice a second
    return sent, before, scrape(observed)


def test_every_request_is_counted_by_family_endpoint_and_status(traffic) -> None:
    sent, before, after = traffic
    assert [r.status_code for r in sent["ok"]] == [200] * 3
    assert [r.status_code for r in sent["tiny"]] == [200] * 3 + [429] * 2
    assert sent["gemini"][0].status_code == 200 and sent["credits"][0].status_code == 200
    upstream_failed = sent["upstream_500"][0].status_code
    assert upstream_failed >= 500

    d = lambda **labels: delta(before, after, "sluice_requests_total", **labels)  # noqa: E731
    assert d(family="openai", endpoint="chat", status="200") == 3 + 3 + 1 + 1  # ok, tiny, paid, stream
    assert d(family="openai", endpoint="chat", status="401", plan="none", model="none") == 2
    assert d(family="openai", endpoint="chat", status="429", plan="tiny") == 2
    dropped = sent["upstream_dropped"][0].status_code
    assert dropped == 502
    assert d(family="openai", endpoint="chat", status=str(upstream_failed)) == 1 + (upstream_failed == dropped)
    assert d(family="gemini", endpoint="chat", status="200") == 1
    assert d(family="credits", endpoint="chat", status="200") == 1
    assert d(family="openai", endpoint="chat", status="200", model="qwen/qwen3-32b", plan="paid") == 1
    # One latency observation per request, every status included.
    assert delta(before, after, "sluice_request_duration_seconds_count", family="openai", endpoint="chat") == 14


def test_refusals_upstream_calls_and_first_tokens(traffic) -> None:
    _, before, after = traffic
    assert delta(before, after, "sluice_rate_limited_total", bucket="chat") == 2
    assert delta(before, after, "sluice_upstream_errors_total", kind="status_5xx") == 1
    assert delta(before, after, "sluice_upstream_errors_total", kind="disconnected") == 1
    assert delta(before, after, "sluice_upstream_errors_total") == 2
    # Every upstream call, failed ones too: 3 ok + 3 tiny + 2 failed + paid + gemini + credits + stream.
    assert delta(before, after, "sluice_upstream_duration_seconds_count", endpoint="chat") == 12
    assert delta(before, after, "sluice_upstream_ttft_seconds_count", endpoint="chat") == 1
    # Overhead is observed for every request that reached the upstream, and resolves below a millisecond.
    assert delta(before, after, "sluice_overhead_seconds_count", family="openai", endpoint="chat") == 10
    buckets = {ls for (n, ls) in after if n == "sluice_overhead_seconds_bucket"}
    assert any(("le", "0.0001") in ls for ls in buckets)


def test_tokens_cost_and_charges_equal_the_usage_records(traffic, observed: Gateway) -> None:
    _, before, after = traffic
    records = _records(observed.database_url)  # type: ignore[attr-defined]
    assert len(records) == 12  # every upstream call is a usage record, the failed ones included
    prompt = sum(max(0, r["prompt_tokens"]) for r in records)
    completion = sum(max(0, r["completion_tokens"]) for r in records)
    assert prompt > 0 and completion > 0
    assert delta(before, after, "sluice_tokens_total", kind="prompt") == prompt
    assert delta(before, after, "sluice_tokens_total", kind="completion") == completion
    assert delta(before, after, "sluice_cost_microusd_total") == sum(max(0, r["cost_micros"]) for r in records)
    charged = sum(max(0, r["charged_micros"]) for r in records)
    assert charged > 0
    assert delta(before, after, "sluice_credits_charged_microusd_total") == charged


def test_the_gauges_are_back_at_rest_and_the_process_is_ready(traffic) -> None:
    _, _, after = traffic
    assert total(after, "sluice_in_flight_requests") == 0
    assert total(after, "sluice_active_streams") == 0
    assert total(after, "sluice_ready") == 1
    for gauge in (
        "sluice_usage_buffer_depth",
        "sluice_usage_flush_lag_seconds",
        "sluice_credit_leases_open",
        "sluice_credit_lease_oldest_age_seconds",
    ):
        assert any(n == gauge for (n, _) in after), gauge
    assert total(after, "sluice_backend_errors_total") == 0


def test_the_app_port_does_not_serve_the_metrics_when_they_have_their_own(observed: Gateway) -> None:
    assert httpx.get(observed.root + "/metrics").status_code == 404


def test_every_metric_the_dashboards_and_rules_read_is_exported(traffic) -> None:
    _, _, after = traffic
    exported = {n for (n, _) in after}
    exported |= {n.removesuffix("_bucket") for n in exported if n.endswith("_bucket")}  # a histogram's own name
    read = _metrics_read_by_deploy()
    assert read, "no metric found in deploy/"
    missing = sorted(m for m in read if m not in exported)
    assert not missing, f"read by deploy/ but not exported: {missing}"


def _metrics_read_by_deploy() -> set[str]:
    names: set[str] = set()
    deploy = REPO_ROOT / "deploy"
    files = [*deploy.glob("grafana/*.json"), *deploy.glob("prometheus/*.yaml"), *deploy.glob("prometheus/*.yml")]
    for path in files:
        if ".test." in path.name or path.name.endswith("_test.yaml"):
            continue  # promtool's unit tests feed made-up series
        names |= set(re.findall(r"\bsluice_[a-z_]+", Path(path).read_text()))
    return {n for n in names if not n.endswith("_")}


def test_one_json_log_line_per_request_with_its_id_and_no_secret(traffic, observed: Gateway) -> None:
    sent, _, _ = traffic
    lines = [json.loads(line) for line in observed.log().splitlines() if line.startswith("{")]
    by_id = {line["request_id"]: line for line in lines if line.get("logger") == "sluice.request"}
    responses = [r for rs in sent.values() for r in rs]
    for response in responses:
        request_id = response.headers["x-request-id"]
        line = by_id[request_id]
        assert line["status"] == response.status_code
        assert line["latency_ms"] >= 0
    records = {r["id"]: r for r in _records(observed.database_url)}  # type: ignore[attr-defined]
    for response in sent["ok"] + sent["paid"] + sent["stream"]:
        line = by_id[response.headers["x-request-id"]]
        record = records[response.headers["x-request-id"]]  # the usage record has the same id
        assert line["account_id"] == record["account_id"]
        assert (line["prompt_tokens"], line["completion_tokens"]) == (
            record["prompt_tokens"],
            record["completion_tokens"],
        )
        assert line["model"] == "qwen/qwen3-32b" and line["family"] == "openai"
    assert by_id[sent["unauthorized"][0].headers["x-request-id"]]["account_id"] is None
    assert by_id[sent["tiny"][4].headers["x-request-id"]]["rate_limited"] == "chat"
    text = observed.log()
    assert "sk-sluice-" not in text.replace("sk-sluice-***", "")
    assert "hello" not in text  # no message content unless an operator turns it on
