"""Every failure answers in the OpenAI error shape with the right status."""

import time

import httpx
import openai
import pytest

from tests.fakes.upstream import FakeUpstreamHandle
from tests.integration.e2e.harness import Gateway

MESSAGES = [{"role": "user", "content": "hello"}]


def post(gateway: Gateway, key: str | None, body: bytes | dict, **kwargs) -> httpx.Response:  # type: ignore[no-untyped-def]
    headers = {"Content-Type": "application/json"}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    content = body if isinstance(body, bytes) else httpx.Request("POST", "/", json=body).content
    return httpx.post(gateway.url() + "/chat/completions", content=content, headers=headers, timeout=15, **kwargs)


def assert_error(response: httpx.Response, status: int, type_: str) -> dict:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) >= {"message", "type", "code", "param"}
    assert error["type"] == type_
    assert error["message"]
    return error


def test_missing_and_bad_keys_are_401(gateway: Gateway) -> None:
    body = {"model": "qwen/qwen3-32b", "messages": MESSAGES}
    assert_error(post(gateway, None, body), 401, "authentication_error")
    assert_error(post(gateway, "sk-sluice-not-a-real-key-at-all", body), 401, "authentication_error")
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(api_key="nope", base_url=gateway.url(), max_retries=0).chat.completions.create(
            model="qwen/qwen3-32b", messages=MESSAGES
        )


def test_malformed_json_and_missing_fields_are_400(gateway: Gateway) -> None:
    key = gateway.new_key()
    assert_error(post(gateway, key, b'{"model": "x", "messages": ['), 400, "invalid_request_error")
    assert_error(post(gateway, key, b"[1, 2]"), 400, "invalid_request_error")
    error = assert_error(post(gateway, key, {"messages": MESSAGES}), 400, "invalid_request_error")
    assert error["param"] == "model"
    error = assert_error(post(gateway, key, {"model": "qwen/qwen3-32b"}), 400, "invalid_request_error")
    assert error["param"] == "messages"


def test_unknown_model_and_route_are_404(gateway: Gateway) -> None:
    key = gateway.new_key()
    error = assert_error(post(gateway, key, {"model": "nobody/nothing", "messages": MESSAGES}), 404, "not_found_error")
    assert "nobody/nothing" in error["message"]
    response = httpx.get(gateway.url() + "/no/such/route", headers={"Authorization": f"Bearer {key}"})
    assert_error(response, 404, "not_found_error")


def test_body_too_large_is_413(gateway: Gateway) -> None:
    key = gateway.new_key()
    big = {"model": "qwen/qwen3-32b", "messages": [{"role": "user", "content": "x" * 300_000}]}
    assert_error(post(gateway, key, big), 413, "invalid_request_error")


def test_banned_account_is_403_and_unban_restores(gateway: Gateway) -> None:
    key = gateway.new_key()
    body = {"model": "qwen/qwen3-32b", "messages": MESSAGES}
    assert post(gateway, key, body).status_code == 200
    gateway.cli("accounts", "ban", gateway.last_email)
    time.sleep(0.4)  # the key cache lives 0.2 s in these tests
    assert_error(post(gateway, key, body), 403, "permission_error")
    gateway.cli("accounts", "unban", gateway.last_email)
    time.sleep(0.4)
    assert post(gateway, key, body).status_code == 200


def test_revoked_key_is_401(gateway: Gateway) -> None:
    key = gateway.new_key()
    body = {"model": "qwen/qwen3-32b", "messages": MESSAGES}
    assert post(gateway, key, body).status_code == 200
    listing = gateway.cli("keys", "list", gateway.last_email).stdout.splitlines()
    key_id = listing[1].split("\t")[0]
    assert key not in "\n".join(listing)
    gateway.cli("keys", "revoke", key_id)
    time.sleep(0.4)
    assert_error(post(gateway, key, body), 401, "authentication_error")


def test_model_outside_the_keys_allow_list_is_403(gateway: Gateway) -> None:
    key = gateway.new_key(models="qwen/qwen3-32b")
    assert post(gateway, key, {"model": "qwen/qwen3-32b", "messages": MESSAGES}).status_code == 200
    assert_error(post(gateway, key, {"model": "openai/gpt-4o-mini", "messages": MESSAGES}), 403, "permission_error")


@pytest.mark.parametrize(
    ("knobs", "status", "type_"),
    [
        ({"status": 503, "error_message": "provider down"}, 503, "service_unavailable_error"),
        ({"status": 500}, 502, "upstream_error"),
        ({"status": 400, "error_message": "bad temperature"}, 400, "invalid_request_error"),
        ({"status": 429, "error_message": "slow down upstream"}, 429, "rate_limit_error"),
        ({"status": 401}, 502, "upstream_error"),
        ({"error_200_whitespace": True}, 502, "upstream_error"),
        ({"hang": True}, 504, "timeout_error"),
    ],
)
def test_upstream_failures_keep_a_meaningful_status(gateway: Gateway, knobs: dict, status: int, type_: str) -> None:
    key = gateway.new_key()
    response = post(gateway, key, {"model": "qwen/qwen3-32b", "messages": MESSAGES, "fake": knobs})
    error = assert_error(response, status, type_)
    if "error_message" in knobs and status < 500:
        assert knobs["error_message"] in error["message"]
    stats = httpx.get(gateway.url() + "/key", headers={"Authorization": f"Bearer {key}"}).json()["data"]
    assert stats["usage"] == 0  # a failed upstream call is not billed


def test_upstream_unreachable_is_503(upstream: FakeUpstreamHandle) -> None:
    from tests.integration.e2e.harness import free_port

    dead = Gateway(f"http://127.0.0.1:{free_port()}/api/v1").start()
    try:
        key = dead.new_key()
        response = post(dead, key, {"model": "anything/at-all", "messages": MESSAGES})
        assert_error(response, 503, "service_unavailable_error")
    finally:
        dead.stop()


def test_an_unreachable_rate_limiter_fails_closed_with_503(upstream: FakeUpstreamHandle) -> None:
    from tests.integration.e2e.harness import free_port

    gw = Gateway(upstream.base_url, extra_env={"SLUICE_REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"}).start()
    try:
        key = gw.new_key()
        response = post(gw, key, {"model": "qwen/qwen3-32b", "messages": MESSAGES})
        error = assert_error(response, 503, "service_unavailable_error")
        assert error["code"] == "backend_unavailable"
        assert response.headers["retry-after"] == "1"
    finally:
        gw.stop()
