"""What survives a shutdown, and what never reaches a log."""

import signal
import time
from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.fakes.upstream import FakeUpstreamHandle
from tests.integration.e2e.harness import Gateway


def test_usage_records_survive_a_graceful_shutdown(upstream: FakeUpstreamHandle) -> None:
    gw = Gateway(upstream.base_url).start()
    try:
        key = gw.new_key()
        body = {"model": "qwen/qwen3-32b", "messages": [{"role": "user", "content": "abcd"}]}
        with httpx.Client(timeout=10) as client, ThreadPoolExecutor(8) as pool:
            responses = list(
                pool.map(
                    lambda _: client.post(
                        gw.url() + "/chat/completions", json=body, headers={"Authorization": f"Bearer {key}"}
                    ),
                    range(40),
                )
            )
        assert all(r.status_code == 200 for r in responses)
        # At once: the records may still sit in the buffer. Uvicorn re-raises the signal after its
        # graceful shutdown, so the exit status is -SIGTERM either way; the records tell.
        assert gw.stop(signal.SIGTERM) in (0, -signal.SIGTERM)
        gw.start()
        stats = httpx.get(gw.url() + "/stats", headers={"Authorization": f"Bearer {key}"}).json()
        assert stats["totalRequests"] == 40
        assert stats["totalCompletionTokens"] == 40 * 5
    finally:
        gw.stop()


def test_no_key_reaches_the_log(gateway: Gateway) -> None:
    key = gateway.new_key()
    headers = {"Authorization": f"Bearer {key}"}
    httpx.post(gateway.url() + "/chat/completions", json={"model": "qwen/qwen3-32b", "messages": []}, headers=headers)
    httpx.post(
        gateway.url() + "/chat/completions",
        json={"model": "qwen/qwen3-32b", "messages": [{"role": "user", "content": "x"}], "fake": {"status": 500}},
        headers=headers,
    )
    httpx.get(gateway.url() + f"/models?key={key}")
    log = gateway.log()
    # The request log is on, so there was a chance to leak.
    assert '"method":"POST","path":"/proxy/v1/chat/completions"' in log
    secret = key.removeprefix("sk-sluice-")
    assert secret not in log
    assert "sk-upstream-test-key" not in log


def test_health_ready_and_metrics(gateway: Gateway) -> None:
    assert httpx.get(gateway.root + "/healthz").json() == {"status": "ok"}
    assert httpx.get(gateway.root + "/readyz").status_code == 200
    key = gateway.new_key()
    httpx.post(
        gateway.url() + "/chat/completions",
        json={"model": "qwen/qwen3-32b", "messages": [{"role": "user", "content": "x"}]},
        headers={"Authorization": f"Bearer {key}"},
    )
    # A request is counted once settled, a moment after its answer.
    wanted = 'sluice_requests_total{endpoint="chat",family="openai",model="qwen/qwen3-32b",plan="default",status="200"}'
    deadline = time.monotonic() + 5
    while wanted not in (metrics := httpx.get(gateway.root + "/metrics").text) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert wanted in metrics
    assert "sluice_usage_buffer_depth" in metrics
