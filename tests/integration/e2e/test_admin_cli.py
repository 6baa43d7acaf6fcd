"""Admin commands against a running gateway: each writes the audit log, and the gateway obeys them."""

import json
import time

import httpx

from tests.integration.e2e.harness import Gateway
from tests.integration.e2e.test_limits_and_credits import chat


def _until(condition, seconds: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    """Waits for what the key cache (0.2 s here) delays; fails only if it never happens."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the gateway never applied the change"
        time.sleep(0.05)


def _audit(gateway: Gateway, *args: str) -> list[dict]:
    return json.loads(gateway.cli("audit", "list", "--json", *args).stdout)


def test_a_cli_ban_is_obeyed_and_written_to_the_audit_log(gateway: Gateway) -> None:
    key = gateway.new_key()
    email = gateway.last_email
    assert chat(gateway, key).status_code == 200
    gateway.env["SLUICE_ACTOR"] = "e2e-operator"
    try:
        gateway.cli("accounts", "ban", email, "--reason", "abuse report #12", cold=True)  # a fresh process too
    finally:
        del gateway.env["SLUICE_ACTOR"]
    _until(lambda: chat(gateway, key).status_code == 403)
    gateway.cli("accounts", "unban", email)
    _until(lambda: chat(gateway, key).status_code == 200)

    unban, ban = _audit(gateway, "--target", email)
    assert (ban["action"], ban["actor"], ban["target_label"], ban["reason"]) == (
        "account.ban",
        "cli:e2e-operator",
        email,
        "abuse report #12",
    )
    assert (ban["before"], ban["after"], ban["actor_id"]) == ({"status": "active"}, {"status": "banned"}, None)
    assert ban["target"] == ban["account_id"] and ban["target"].startswith("acct_")
    assert (unban["action"], unban["after"], unban["seq"] > ban["seq"]) == ("account.unban", {"status": "active"}, True)
    assert unban["actor"] == "cli" or unban["actor"].startswith("cli:")  # the OS user running the tests


def test_an_accounts_own_spend_cap_is_enforced_and_a_lifted_one_is_not(gateway: Gateway) -> None:
    # Set before the keys' first use, so no cached principal holds the plan without them.
    capped_key = gateway.new_key()  # default plan: no cap of its own
    capped = gateway.last_email
    gateway.cli("accounts", "spend-cap", capped, "--day", "0.00001", "--reason", "trial")
    lifted_key = gateway.new_key("capped")  # the plan caps a day at ten micro-dollars
    lifted = gateway.last_email
    gateway.cli("accounts", "spend-cap", lifted, "--day", "none")

    assert chat(gateway, capped_key).status_code == 200  # 12 micro-dollars: past the cap after this one
    httpx.get(gateway.url() + "/stats", headers={"Authorization": f"Bearer {capped_key}"})
    refused = chat(gateway, capped_key)
    assert refused.status_code == 402 and refused.json()["error"]["code"] == "spend_cap_reached"
    assert [chat(gateway, lifted_key).status_code for _ in range(3)] == [200, 200, 200]

    shown = json.loads(gateway.cli("accounts", "show", capped, "--json").stdout)
    assert shown["spend_caps"] == [{"period": "day", "limit_usd": 0.00001, "limit_micros": 10}]
    [entry] = _audit(gateway, "--target", capped, "--action", "account.spend_caps")
    assert (entry["before"], entry["after"], entry["reason"]) == (
        {"spend_caps": {}},
        {"spend_caps": {"day": 10}},
        "trial",
    )
    [lift] = _audit(gateway, "--target", lifted)
    assert lift["after"] == {"spend_caps": {"day": None}}


def test_plan_credits_and_key_revocation_are_written_too(gateway: Gateway) -> None:
    key = gateway.new_key()
    email = gateway.last_email
    gateway.cli("accounts", "plan", email, "pro")
    gateway.cli("credits", "grant", email, "3", "--note", "welcome", "--idempotency-key", "e2e-grant-1")
    gateway.cli("credits", "deduct", email, "1", "--reason", "correction")
    key_id = json.loads(gateway.cli("keys", "list", email, "--json").stdout)[0]["id"]
    gateway.cli("keys", "revoke", key_id, "--reason", "leaked in a gist")
    _until(lambda: chat(gateway, key).status_code == 401)

    entries = _audit(gateway, "--target", email)
    assert [e["action"] for e in entries] == ["key.revoke", "credits.deduct", "credits.grant", "account.plan"]
    revoke, deduct, grant, plan = entries
    assert (revoke["target"], revoke["reason"], revoke["before"]) == (key_id, "leaked in a gist", {"revoked_at": None})
    assert (deduct["after"]["amount_micros"], deduct["after"]["balance_micros"]) == (-1_000_000, 2_000_000)
    assert (grant["after"]["idempotency_key"], grant["reason"]) == ("e2e-grant-1", "welcome")
    assert (plan["before"], plan["after"]) == ({"plan": "default"}, {"plan": "pro"})
    text = gateway.cli("audit", "list", "--target", key_id).stdout.splitlines()
    assert text[0].split("\t") == ["seq", "at", "actor", "action", "target", "before", "after", "reason"]
    assert len(text) == 2 and "key.revoke" in text[1]
