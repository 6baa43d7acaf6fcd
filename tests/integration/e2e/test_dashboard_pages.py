"""The dashboard's own pages end to end: sign up, call with the openai SDK, read /usage, /dashboard and
/models with httpx. One gateway for the whole session (the `gateway` fixture)."""

from __future__ import annotations

import html
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import openai
import pytest

from tests.integration.e2e.harness import Gateway
from tests.integration.e2e.web_session import sign_in, sign_up

MODEL = "openai/gpt-4o-mini"
PASSWORD = "correct horse battery staple"


@dataclass
class Person:
    email: str
    web: httpx.Client
    key: str
    key_name: str


def _new_key(web: httpx.Client, root: str, name: str) -> str:
    created = web.post(root + "/api/keys", json={"name": name})
    assert created.status_code == 201, created.text
    return created.json()["key"]


@pytest.fixture(scope="module")
def ada(gateway: Gateway) -> Person:
    """Signed up on the web (the default plan), her chat bucket then set to 3 a minute per key."""
    email = f"ada{time.monotonic_ns()}@example.org"
    web = httpx.Client(timeout=30)
    sign_up(web, gateway.root, email, PASSWORD)
    gateway.cli("accounts", "limits", email, "--set", "chat=3/1h", "--subject", "key")
    person = Person(email, web, _new_key(web, gateway.root, "laptop"), "laptop")
    client = sdk(gateway, person.key)
    answer = client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "Hi there"}])
    assert answer.choices[0].message.content
    streamed = client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "Tell me a story"}], stream=True
    )
    assert "".join(c.choices[0].delta.content or "" for c in streamed if c.choices)
    with pytest.raises(openai.APIStatusError) as failed:
        client.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": "x"}], extra_body={"fake": {"status": 500}}
        )
    assert failed.value.status_code == 502
    with pytest.raises(openai.RateLimitError):  # the fourth within the hour: refused, never recorded
        client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "x"}])
    return person


@pytest.fixture(scope="module")
def carol(gateway: Gateway) -> Person:
    """Made by the operator on the `capped` plan (ten micro-dollars a day), then signed in on the web."""
    email = f"carol{time.monotonic_ns()}@example.org"
    gateway.cli("accounts", "create", email, "--plan", "capped")
    gateway.cli("accounts", "password", email, input=PASSWORD + "\n")
    web = httpx.Client(timeout=30)
    sign_in(web, gateway.root, email, PASSWORD)
    return Person(email, web, _new_key(web, gateway.root, "ci"), "ci")


def sdk(gateway: Gateway, key: str) -> openai.OpenAI:
    return openai.OpenAI(api_key=key, base_url=gateway.url("/api/v1"), max_retries=0)


def cell_texts(page: str, table_id: str) -> list[list[str]]:
    table = re.search(rf'<table[^>]*id="{table_id}"[^>]*>(.*?)</table>', page, re.S)
    assert table, f"no table #{table_id}"
    rows = re.findall(r"<tr>(.*?)</tr>", table.group(1), re.S)
    return [
        [
            " ".join(html.unescape(re.sub(r"<[^>]+>", " ", c)).split())
            for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", r, re.S)
        ]
        for r in rows
    ]


def svgs(page: str) -> list[str]:
    return re.findall(r"<svg\b.*?</svg>", page, re.S)


def test_the_pages_send_visitors_to_sign_in(gateway: Gateway) -> None:
    for path in ("/dashboard", "/usage", "/models"):
        answer = httpx.get(gateway.root + path, follow_redirects=False)
        assert answer.status_code == 303
        assert answer.headers["location"] == f"/login?next={path}"


def test_usage_shows_the_calls_made_with_the_sdk_in_the_table_and_the_charts(gateway: Gateway, ada: Person) -> None:
    page = ada.web.get(gateway.root + "/usage")

    assert page.status_code == 200
    text = page.text
    recent = cell_texts(text, "recent")[1:]  # below the header
    assert len(recent) == 3
    assert [row[2] for row in recent] == ["chat", "chat (stream)", "chat"][::-1]
    assert {row[1] for row in recent} == {ada.key_name} and {row[3] for row in recent} == {MODEL}
    assert [row[4] for row in recent] == ["502 (upstream error)", "200", "200"]
    assert recent[0][6] == "$0.00" and recent[2][6] != "$0.00"  # a failed call is not billed
    assert all(row[7].endswith(" ms") for row in recent)
    today = datetime.now(UTC).date().isoformat()
    charts = svgs(text)
    assert len(charts) == 6
    for svg in charts:
        assert "<script" not in svg and "@import" not in svg
        assert not re.search(r'(?:href|src)\s*=\s*"(?!#)', svg), "the chart references something outside itself"
        assert 'role="img"' in svg and re.search(r'aria-labelledby="chart-\d+-title chart-\d+-desc"', svg)
    requests_chart = next(svg for svg in charts if ">Requests per day</title>" in svg)
    assert f"<title>{today} · 3</title>" in requests_chart  # the bar of today, three requests
    assert f'<th scope="row">{today}</th>' in text and "Days are UTC dates" in text
    assert "figures can lag a few seconds" in text


def test_the_dashboard_shows_today_and_the_buckets_as_they_stand(gateway: Gateway, ada: Person) -> None:
    first = ada.web.get(gateway.root + "/dashboard").text
    again = ada.web.get(gateway.root + "/dashboard").text

    today = dict(zip(re.findall(r"<dt>(.*?)</dt>", first), re.findall(r"<dd>(.*?)</dd>", first), strict=True))
    assert today["Requests"] == "3" and today["Cost"] != "$0.00"
    buckets = {row[0].split()[0]: row for row in cell_texts(first, "buckets")[1:]}
    assert set(buckets) == {"chat", "moderations", "images"}
    _, counted, limit, remaining, next_request, reset = buckets["chat"]
    assert counted.startswith(f"key “{ada.key_name}” (sk-sluice-") and limit == "3 per 1h"
    assert (remaining, next_request[:3]) == ("0", "in ")  # three spent: one back every 20 minutes
    assert reset.startswith("full in ")
    assert buckets["moderations"][1:4] == ["your account", "300 per 1m", "300"]
    assert cell_texts(again, "buckets") == cell_texts(first, "buckets")  # looking took nothing
    assert "Plan" in first and ">default<" in first


def test_spend_caps_show_what_was_spent_and_that_the_cap_is_reached(gateway: Gateway, carol: Person) -> None:
    sdk(gateway, carol.key).chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "Hello"}])

    page = carol.web.get(gateway.root + "/dashboard").text

    caps = cell_texts(page, "caps")
    assert caps[0] == ["Period", "Cap", "Spent", "Left", "Resets"]
    period, cap, spent, left, resets = caps[1]
    assert (period, cap) == ("daily", "$0.00001")
    assert spent != "$0.00" and left.startswith("none")
    tomorrow = datetime.fromtimestamp(time.time() + 86400, UTC).date().isoformat()
    assert resets == f"{tomorrow} 00:00:00 UTC"
    with pytest.raises(openai.APIStatusError) as refused:
        sdk(gateway, carol.key).chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "x"}])
    assert refused.value.status_code == 402


def test_models_lists_the_plans_catalogue_with_context_and_prices(gateway: Gateway, carol: Person) -> None:
    page = carol.web.get(gateway.root + "/models").text

    rows = {row[0].split()[0]: row for row in cell_texts(page, "models-chat")[1:]}
    assert rows[MODEL][1:] == ["128,000", "16,384", "$1.00", "$2.00"]  # the fake lists $1 and $2 per million
    assert "qwen/qwen3-32b" in rows
    embeddings = cell_texts(page, "models-embeddings")
    assert any(row[0].startswith("openai/text-embedding-3-small") for row in embeddings)


def test_on_postgres_and_redis_with_two_processes_the_pages_show_the_shared_state(shared_gateway: Gateway) -> None:
    """The deployment shape: the peek goes to Redis, the figures to Postgres, any process serves the page."""
    email = f"dora{time.monotonic_ns()}@example.org"
    web = httpx.Client(timeout=30)
    sign_up(web, shared_gateway.root, email, PASSWORD)
    shared_gateway.cli("accounts", "limits", email, "--set", "chat=5/1h")  # per account, one back every 12 min
    client = sdk(shared_gateway, _new_key(web, shared_gateway.root, "server"))
    for _ in range(2):
        client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "Hi"}])

    # Each process writes its usage records within a flush interval; a page flushes only its own.
    deadline = time.monotonic() + 30
    while True:
        usage = web.get(shared_gateway.root + "/usage").text
        if usage.count("<td>server</td>") == 2 or time.monotonic() > deadline:  # both calls, by key name
            break
        time.sleep(0.2)
    assert len(cell_texts(usage, "recent")) == 3  # the header and both calls
    for _ in range(4):  # whichever process answers, the bucket is the one in Redis
        chat = next(
            row
            for row in cell_texts(web.get(shared_gateway.root + "/dashboard").text, "buckets")
            if row[0].startswith("chat")
        )
        assert chat[1:4] == ["your account", "5 per 1h", "3"]
