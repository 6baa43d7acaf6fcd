"""`sluice serve` on a Redis of the test's own: whatever Redis answers or fails to, the client gets
a 503 `backend_unavailable` (never a 500), and exact decisions once Redis is back."""

import time
from collections.abc import Iterator

import httpx
import pytest
import redis

from tests.fakes.upstream import FakeUpstreamHandle, start_fake_upstream
from tests.integration.e2e.harness import Gateway
from tests.integration.e2e.web_session import client_address, sign_up
from tests.redis_process import RedisProcess, redis_process

PASSWORD = "e2e-pw"
BODY = {"model": "qwen/qwen3-32b", "messages": [{"role": "user", "content": "hello"}]}


@pytest.fixture(scope="module")
def upstream() -> Iterator[FakeUpstreamHandle]:
    with start_fake_upstream(api_key="sk-upstream-test-key", chunks=5) as handle:
        yield handle


@pytest.fixture
def server() -> Iterator[RedisProcess]:
    with redis_process(password=PASSWORD) as process:
        yield process


def chat(gateway: Gateway, key: str) -> httpx.Response:
    return httpx.post(
        gateway.url() + "/chat/completions", json=BODY, headers={"Authorization": f"Bearer {key}"}, timeout=15
    )


def redis_errors(gateway: Gateway) -> float:
    """`sluice_backend_errors_total{backend="redis"}`, once the process has pushed its counts (0.5 s)."""
    time.sleep(0.6)
    for line in httpx.get(gateway.root + "/metrics").text.splitlines():
        if line.startswith('sluice_backend_errors_total{backend="redis"}'):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError("no Redis error counter in /metrics")


def assert_backend_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.json()["error"]["code"] == "backend_unavailable"


def test_a_wrong_redis_password_is_503_not_500(upstream: FakeUpstreamHandle, server: RedisProcess) -> None:
    gw = Gateway(upstream.base_url, extra_env={"SLUICE_REDIS_URL": server.url(3, password="wrong")}).start()
    try:
        key = gw.new_key()
        for _ in range(2):
            assert_backend_unavailable(chat(gw, key))
        assert redis_errors(gw) >= 2
    finally:
        gw.stop()


def test_redis_out_of_memory_restarted_and_back(upstream: FakeUpstreamHandle, server: RedisProcess) -> None:
    gw = Gateway(upstream.base_url, extra_env={"SLUICE_REDIS_URL": server.url(3)}).start()
    try:
        tiny, capped = gw.new_key("tiny"), gw.new_key("capped")
        assert chat(gw, tiny).status_code == 200
        assert chat(gw, capped).status_code == 200  # seeds its spend counter, then adds to it

        admin = redis.Redis.from_url(server.url(0))
        admin.config_set("maxmemory-policy", "noeviction")
        admin.config_set("maxmemory", 1)
        assert_backend_unavailable(chat(gw, tiny))  # OOM on the rate decision
        admin.config_set("maxmemory", 0)
        admin.close()

        server.stop()
        assert_backend_unavailable(chat(gw, tiny))
        assert_backend_unavailable(chat(gw, capped))
        assert redis_errors(gw) >= 3  # the OOM and the two refused while it was down
        server.start()  # same port, no data: the limit starts over, the cap is seeded again

        statuses = [chat(gw, tiny).status_code for _ in range(5)]
        assert statuses == [200, 200, 200, 429, 429]
        refused = chat(gw, capped)  # 12 micro-dollars spent of 10: re-seeded from the usage records
        assert refused.status_code == 402, refused.text
        assert refused.json()["error"]["code"] == "spend_cap_reached"
    finally:
        gw.stop()


def test_while_redis_is_down_only_what_lives_there_is_refused(
    upstream: FakeUpstreamHandle, server: RedisProcess
) -> None:
    """A plan with no Redis limit and no spend cap (prepaid, here) keeps being served; a limited
    plan, the dashboard's sessions and sign-in answer 503; a Redis back without its data has
    signed everyone out (docs/operations.md, "What an outage costs")."""
    gw = Gateway(upstream.base_url, extra_env={"SLUICE_REDIS_URL": server.url(3)}).start()
    try:
        prepaid = gw.new_key("flat")
        gw.cli("credits", "grant", gw.last_email, "1")
        limited = gw.new_key()  # the built-in default plan: 150 requests per 30 minutes, counted in Redis
        with httpx.Client(timeout=15) as browser:
            sign_up(browser, gw.root, "ada@example.org", "correct horse battery staple")
            assert browser.get(gw.root + "/dashboard").status_code == 200

            server.stop()
            assert chat(gw, prepaid).status_code == 200
            assert_backend_unavailable(chat(gw, limited))
            assert browser.get(gw.root + "/dashboard").status_code == 503
            address = {"X-Forwarded-For": client_address("ada@example.org")}
            form = {"email": "ada@example.org", "password": "correct horse battery staple"}
            assert httpx.post(gw.root + "/login", data=form, headers=address).status_code == 503
            ready = httpx.get(gw.root + "/readyz")
            assert ready.status_code == 503 and any(p.startswith("redis") for p in ready.json()["problems"])

            server.start()
            assert chat(gw, limited).status_code == 200
            assert browser.get(gw.root + "/dashboard").status_code == 303  # to /login: the session went with the data
    finally:
        gw.stop()
