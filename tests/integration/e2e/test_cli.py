"""The real `sluice` command, as an operator types it: forked from the warm CLI server (see warm_cli),
and a few commands (`cold=True`) in a fresh interpreter of their own, as a shell starts them."""

import json
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
from sqlalchemy.engine import make_url

from tests.integration.e2e.harness import REPO_ROOT, Gateway


@pytest.fixture(scope="module")
def cli() -> Iterator[Gateway]:
    """A gateway's environment (SQLite in a temporary directory) that is never served: CLI only."""
    yield Gateway("http://127.0.0.1:9/api/v1")


def test_version_and_help_name_every_option(cli: Gateway) -> None:
    version = cli.cli("--version", cold=True).stdout.strip()
    assert version.startswith("sluice ") and version.split()[1][0].isdigit()
    grant = cli.cli("credits", "grant", "--help", cold=True).stdout
    for text in ("EMAIL", "AMOUNT", "dollars", "--idempotency-key", "--note", "--json"):
        assert text in grant
    create = cli.cli("accounts", "create", "--help").stdout
    assert "--plan NAME" in create and "--admin" in create and "admin role" in create
    assert "--expires-days N" in cli.cli("keys", "create", "--help").stdout
    usage = cli.cli("usage", "--help").stdout
    assert "--since" in usage and "--by {model,day,account,plan}" in usage


def test_accounts_list_and_show(cli: Gateway) -> None:
    cli.cli("accounts", "create", "lister-ada@example.org", "--plan", "paid", cold=True)
    cli.cli("accounts", "create", "lister-bob@example.org", "--admin")
    cli.cli("accounts", "ban", "lister-bob@example.org")
    cli.cli("credits", "grant", "lister-ada@example.org", "12.5")
    secret = cli.cli("keys", "create", "lister-ada@example.org", "--name", "laptop", cold=True).stdout.strip()

    rows = [line.split("\t") for line in cli.cli("accounts", "list", "--plan", "paid").stdout.splitlines()]
    assert rows[0] == ["id", "email", "role", "plan", "status", "created", "balance"]
    assert [(r[1], r[3], r[6]) for r in rows[1:]] == [("lister-ada@example.org", "paid", "$12.50")]
    banned = json.loads(cli.cli("accounts", "list", "--banned", "--json").stdout)
    assert [(a["email"], a["role"], a["status"]) for a in banned] == [("lister-bob@example.org", "admin", "banned")]

    shown = cli.cli("accounts", "show", "lister-ada@example.org").stdout
    assert "balance:\t$12.50" in shown
    assert "spent:\ttoday $0.00, this week $0.00, this month $0.00" in shown
    assert "laptop" in shown and secret not in shown
    report = json.loads(cli.cli("accounts", "show", "LISTER-ADA@example.org", "--json").stdout)
    assert (report["plan"], report["balance_usd"], report["balance_micros"]) == ("paid", 12.5, 12_500_000)
    assert report["spent"]["day"] == {"charged_usd": 0.0, "charged_micros": 0}
    assert [(k["name"], k["status"]) for k in report["keys"]] == [("laptop", "active")]

    capped = json.loads(cli.cli("accounts", "show", _account(cli, "capped"), "--json").stdout)
    assert capped["spend_caps"] == [{"period": "day", "limit_usd": 0.00001, "limit_micros": 10}]

    missing = cli.cli("accounts", "show", "nobody@example.org", check=False, cold=True)
    assert (missing.returncode, missing.stderr.strip()) == (1, "sluice: no account for nobody@example.org")


def _account(cli: Gateway, plan: str | None = None) -> str:
    email = f"user{time.monotonic_ns()}@example.org"
    cli.cli("accounts", "create", email, *(["--plan", plan] if plan else []))
    return email


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("0", "AMOUNT must be more than $0, got $0.00"),
        ("-994.5", "AMOUNT must be more than $0, got -$994.50"),
        ("nan", "AMOUNT must be a finite number of dollars, got 'nan'"),
        ("1e400", "is more than the $1000000.00 allowed at once"),
        ("0.0000001", "AMOUNT '0.0000001' is finer than a micro-dollar ($0.000001)"),
        ("ten", "AMOUNT must be a number of dollars such as 12.50, got 'ten'"),
    ],
)
def test_grant_refuses_amounts_that_are_not_a_top_up(cli: Gateway, amount: str, message: str) -> None:
    email = _account(cli)
    refused = cli.cli("credits", "grant", email, amount, check=False)
    assert refused.returncode == 1
    assert message in refused.stderr
    assert cli.cli("credits", "balance", email).stdout.strip() == "$0.00"


def test_grant_deduct_and_idempotency_keys(cli: Gateway) -> None:
    email = _account(cli)
    granted = cli.cli("credits", "grant", email, "$12.50", "--idempotency-key", "inv-1")
    assert granted.stdout.strip() == "$12.50"
    assert f"granted $12.50 for {email}; the balance is now $12.50" in granted.stderr
    again = cli.cli("credits", "grant", email, "12.50", "--idempotency-key", "inv-1")
    assert (again.returncode, again.stdout.strip()) == (0, "$12.50")
    assert "used before for the same change; nothing changed" in again.stderr
    other = cli.cli("credits", "grant", email, "13", "--idempotency-key", "inv-1", check=False)
    assert other.returncode == 1
    assert "amount $12.50, not $13.00" in other.stderr

    deducted = cli.cli("credits", "deduct", email, "2.000012", "--reason", "refund", "--json")
    assert json.loads(deducted.stdout) == {
        "email": email,
        "applied": True,
        "amount_usd": 2.000012,
        "amount_micros": 2_000_012,
        "balance_usd": 10.499988,
        "balance_micros": 10_499_988,
    }
    too_much = cli.cli("credits", "deduct", email, "11", "--reason", "oops", check=False)
    assert too_much.returncode == 1
    assert "the balance is $10.499988 and a deduction never takes it below $0.00; nothing changed" in too_much.stderr
    assert cli.cli("credits", "deduct", email, "10.499988", "--reason", "close").stdout.strip() == "$0.00"
    kind = cli.cli("credits", "deduct", email, "12.50", "--reason", "x", "--idempotency-key", "inv-1", check=False)
    assert kind.returncode == 1 and "kind grant, not deduct" in kind.stderr
    no_reason = cli.cli("credits", "deduct", email, "1", check=False, cold=True)
    assert no_reason.returncode == 2 and "--reason" in no_reason.stderr
    assert json.loads(cli.cli("credits", "balance", email, "--json").stdout) == {
        "email": email,
        "balance_usd": 0.0,
        "balance_micros": 0,
        "held_in_leases_usd": 0.0,
        "held_in_leases_micros": 0,
    }


def test_ban_unban_and_revoke_say_when_and_whether(cli: Gateway) -> None:
    email = _account(cli)
    ban = cli.cli("accounts", "ban", email)
    assert f"{email} banned; gateways stop accepting its keys within 0.2 s" in ban.stderr
    again = cli.cli("accounts", "ban", email)
    assert again.returncode == 0 and f"{email} is already banned; nothing changed" in again.stderr
    assert "accept its keys again within 0.2 s" in cli.cli("accounts", "unban", email).stderr
    assert "already active; nothing changed" in cli.cli("accounts", "unban", email).stderr
    assert cli.cli("accounts", "ban", "nobody@example.org", check=False).returncode == 1

    cli.cli("keys", "create", email, "--name", "ci")
    key_id = json.loads(cli.cli("keys", "list", email, "--json").stdout)[0]["id"]
    assert "gateways stop accepting it within 0.2 s" in cli.cli("keys", "revoke", key_id).stderr
    again = cli.cli("keys", "revoke", key_id)
    assert again.returncode == 0 and "was already revoked at" in again.stderr and "nothing changed" in again.stderr
    assert json.loads(cli.cli("keys", "list", email, "--json").stdout)[0]["status"] == "revoked"
    unknown = cli.cli("keys", "revoke", "key_nope", check=False)
    assert (unknown.returncode, unknown.stderr.strip()) == (1, "sluice: no key with id key_nope")


def test_usage_and_plans_listings(cli: Gateway) -> None:
    email = _account(cli)
    rows = cli.cli("usage", email, "--since", "2025-01-01").stdout.splitlines()
    assert rows == ["requests\tprompt_tokens\tcompletion_tokens\tupstream_cost\tcharged", "0\t0\t0\t$0.00\t$0.00"]
    assert json.loads(cli.cli("usage", "--by", "model", "--since", "2999-01-01T00:00:00Z", "--json").stdout) == []
    bad = cli.cli("usage", "--since", "last week", check=False)
    assert bad.returncode == 1 and "--since must be a date" in bad.stderr

    plans = {p["name"]: p for p in json.loads(cli.cli("plans", "list", "--json").stdout)}
    assert plans["default"]["default"] is True
    assert plans["flat"]["pricing"] == {"mode": "per_request", "per_request_usd": 0.01, "per_request_micros": 10_000}
    assert plans["default"]["limits"][0] == {
        "name": "chat",
        "requests": 150,
        "per": "30m",
        "subject": "account",
        "endpoints": ["chat", "embeddings"],
    }
    assert "pricing: $0.01 per request" in cli.cli("plans", "list").stdout


def test_serve_logs_where_it_points_with_every_secret_masked(postgres_base_url: str) -> None:
    database = make_url(postgres_base_url).set(password="pg-secret-pw").render_as_string(hide_password=False)
    gateway = Gateway(
        "http://127.0.0.1:9/api/v1",
        extra_env={
            "SLUICE_DATABASE_URL": database,
            "SLUICE_REDIS_URL": "redis://:redis-secret-pw@127.0.0.1:6379/11",
            "SLUICE_KEY_PEPPER": "pepper-secret-0123456789",
            "SLUICE_AUTO_MIGRATE": "0",
        },
    )
    with open(gateway.log_path, "ab") as log:
        gateway.process = subprocess.Popen(
            [sys.executable, "-m", "interfaces.cli.main", "serve"],
            cwd=REPO_ROOT,
            env=gateway.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 30
        while "sluice starting" not in gateway.log() and gateway.process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(0.5)  # let it try to reach the servers, so any error it logs is in the log too
    finally:
        gateway.stop()
    text = gateway.log()
    line = next(line for line in text.splitlines() if "sluice starting" in line)
    assert json.loads(line)["level"] == "info"  # JSON lines by default
    assert "upstream http://127.0.0.1:9/api/v1" in line
    assert f"database {make_url(database).render_as_string(hide_password=True)}" in line
    assert "limiter redis://:***@127.0.0.1:6379/11" in line
    assert f"http://127.0.0.1:{gateway.port}" in line and "workers 1" in line
    assert text.count("sluice starting") == 1
    for secret in ("pg-secret-pw", "redis-secret-pw", "pepper-secret-0123456789", "sk-upstream-test-key"):
        assert secret not in text


def test_the_in_process_limiter_is_named() -> None:
    from interfaces.cli.startup import startup_line
    from interfaces.settings import load_settings

    settings = load_settings({"SLUICE_UPSTREAM_URL": "https://u:tok@example.org/v1", "SLUICE_DATA_DIR": "/tmp/x"})
    line = startup_line(settings)
    assert "limiter in-process" in line and "upstream https://u:***@example.org/v1" in line and "tok" not in line


def test_a_fresh_install_serves_the_specs_plans() -> None:
    fresh = Gateway("http://127.0.0.1:9/api/v1")
    del fresh.env["SLUICE_CONFIG"]  # no configuration file at all: the built-ins alone

    created = fresh.cli("accounts", "create", "first@example.org", "--plan", "free")
    assert created.stdout.split("\t")[1:3] == ["first@example.org", "free"]
    assert "created on plan 'free'" in created.stderr
    plans = {p["name"]: p for p in json.loads(fresh.cli("plans", "list", "--json").stdout)}
    assert set(plans) == {"default", "unlimited", "credits", "free", "standard", "pro", "enterprise"}
    assert [(x["name"], x["requests"], x["per"], x["subject"]) for x in plans["free"]["limits"]] == [
        ("chat", 10, "1m", "key"),
        ("images", 5, "1m", "key"),
        ("moderations", 300, "1m", "key"),
    ]
    assert plans["credits"]["prepaid"] is True
    assert plans["credits"]["pricing"] == {"mode": "per_request", "per_request_usd": 1.0, "per_request_micros": 10**6}
    unknown = fresh.cli("accounts", "create", "gold@example.org", "--plan", "gold", check=False)
    assert unknown.returncode == 1 and "no plan named 'gold'" in unknown.stderr


def test_accounts_limits_shows_sets_and_clears_overrides(cli: Gateway) -> None:
    email = _account(cli, "enterprise")

    shown = cli.cli("accounts", "limits", email)
    rows = [line.split("\t") for line in shown.stdout.splitlines()]
    assert rows[0] == ["bucket", "requests", "per", "subject", "endpoints", "source"]
    assert rows[1:] == [
        ["chat", "300", "1m", "key", "chat,embeddings", "plan"],
        ["images", "60", "1m", "key", "images", "plan"],
        ["moderations", "300", "1m", "key", "moderations", "plan"],
    ]
    assert shown.stderr == ""

    changed = cli.cli("accounts", "limits", email, "--set", "chat=1000/1m", "--set", "images=100/1m", "--json")
    report = json.loads(changed.stdout)
    assert [(x["name"], x["requests"], x["source"]) for x in report["limits"]] == [
        ("chat", 1000, "account"),
        ("images", 100, "account"),
        ("moderations", 300, "plan"),
    ]
    assert [x["name"] for x in report["overrides"]] == ["chat", "images"]
    assert "rate limits set; gateways apply them within 0.2 s" in changed.stderr

    per_ip = cli.cli("accounts", "limits", email, "--set", "chat=20/30s", "--subject", "ip", "--json")
    chat = json.loads(per_ip.stdout)["limits"][0]
    assert (chat["requests"], chat["per"], chat["subject"]) == (20, "30s", "ip")
    same = cli.cli("accounts", "limits", email, "--set", "chat=20/30s")
    assert "nothing changed" in same.stderr

    account = json.loads(cli.cli("accounts", "show", email, "--json").stdout)
    assert [(x["name"], x["requests"], x["subject"]) for x in account["rate_limits"]] == [
        ("chat", 20, "ip"),
        ("images", 100, "key"),
    ]
    assert "rate limits:\tchat=20/30s per ip, images=100/1m per key" in cli.cli("accounts", "show", email).stdout

    cleared = cli.cli("accounts", "limits", email, "--clear")
    assert all(row.endswith("\tplan") for row in cleared.stdout.splitlines()[1:])
    assert "overrides cleared: its plan 'enterprise' applies" in cleared.stderr


def test_accounts_limits_refusals(cli: Gateway) -> None:
    email = _account(cli)
    for args, message in (
        (["--set", "chat=lots"], "--set wants BUCKET=REQUESTS/WINDOW such as chat=1000/1m, got 'chat=lots'"),
        (["--set", "chat=10/fortnight"], "got 'chat=10/fortnight'"),
        (["--set", "chat=0/1m"], "needs a positive limit and window"),
        (["--set", "video=1/1m"], "no rate bucket named 'video' on plan 'default'"),
        (["--subject", "key"], "a subject applies to the limits being set"),
    ):
        refused = cli.cli("accounts", "limits", email, *args, check=False)
        assert refused.returncode == 1 and message in refused.stderr, refused.stderr
    assert json.loads(cli.cli("accounts", "show", email, "--json").stdout)["rate_limits"] == []
