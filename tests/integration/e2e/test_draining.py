"""SIGTERM: the process says it is draining, keeps serving for SLUICE_DRAIN_SECONDS, then stops cleanly."""

import signal
import time

import httpx

from tests.fakes.upstream import FakeUpstreamHandle
from tests.integration.e2e.harness import Gateway

# uvicorn ends a graceful shutdown by re-raising the signal it caught, as a process should.
STOPPED_CLEANLY = (0, -signal.SIGTERM)
HELLO = {"model": "qwen/qwen3-32b", "messages": [{"role": "user", "content": "hello"}]}


def test_a_draining_process_is_not_ready_but_still_answers(upstream: FakeUpstreamHandle) -> None:
    gw = Gateway(upstream.base_url, extra_env={"SLUICE_DRAIN_SECONDS": "3"}).start()
    try:
        key = gw.new_key()
        assert httpx.get(gw.root + "/readyz").status_code == 200
        assert gw.process is not None
        gw.process.send_signal(signal.SIGTERM)
        sent = time.monotonic()
        time.sleep(0.3)
        ready = httpx.get(gw.root + "/readyz")
        assert ready.status_code == 503
        assert ready.json() == {"status": "unavailable", "problems": ["draining: this process is shutting down"]}
        answer = httpx.post(gw.url() + "/chat/completions", json=HELLO, headers={"Authorization": f"Bearer {key}"})
        assert answer.status_code == 200  # still serving while the load balancer catches up
        assert gw.process.wait(timeout=30) in STOPPED_CLEANLY
        assert time.monotonic() - sent >= 2.5  # it waited out the drain before it stopped
    finally:
        gw.stop()


def test_without_a_drain_time_sigterm_stops_at_once(upstream: FakeUpstreamHandle) -> None:
    gw = Gateway(upstream.base_url).start()
    assert gw.process is not None
    sent = time.monotonic()
    gw.process.send_signal(signal.SIGTERM)
    assert gw.process.wait(timeout=30) in STOPPED_CLEANLY
    assert time.monotonic() - sent < 5
