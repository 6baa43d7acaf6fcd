"""Three `sluice serve` replicas on one Postgres database and one Redis behave as one gateway.

A limit of N admits exactly N across them; prepaid balances never go negative and equal the
ledger's sum; every answered request has exactly one usage record (its id is the answer's
X-Request-Id); a key revoked and an account banned through one replica's admin console are refused
by that replica at once and by the other two within the key cache's lifetime
(SLUICE_KEY_CACHE_SECONDS, left at its default here: the delay docs/operations.md documents); and
SIGTERM on one replica under load loses none of the requests it had accepted while the other two
keep serving. The replicas start together on an empty database, so their start-up migrations take
turns on the advisory lock. One database for the module; each test has accounts of its own.
"""

from __future__ import annotations

import asyncio
import itertools
import re
import signal
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import httpx
import pytest

from tests.conftest import _create_database, _drop_database
from tests.fakes.upstream import FakeUpstreamHandle, completion_text
from tests.integration.e2e.harness import Gateway
from tests.integration.e2e.ledger_probe import BalanceWatch, account_state, record_ids
from tests.integration.e2e.test_draining import STOPPED_CLEANLY
from tests.integration.e2e.web_session import csrf_of, sign_in

CACHE_SECONDS = 5.0  # SLUICE_KEY_CACHE_SECONDS' default
SLACK_SECONDS = 1.0  # a poll's round trip and a busy shared machine
MODEL = "qwen/qwen3-32b"
PASSWORD = "correct horse battery staple"
CENT = 10_000  # micro-dollars: the `flat` plan's price of a request
EMAIL = "<email>"


@dataclass
class Member:
    email: str
    account_id: str
    key: str


@dataclass
class Cluster:
    replicas: list[Gateway]
    database_url: str
    _serial: Iterator[int] = field(default_factory=itertools.count)

    def members(self, count: int, plan: str | None, *then: list[str], admin: str | None = None) -> list[Member]:
        """Accounts with one key each, made in one CLI process (one start-up: a second or two here),
        each followed by the commands `then` (EMAIL: its email); `admin`: an admin made first, with
        the password PASSWORD."""
        emails = [f"r{next(self._serial)}-{time.monotonic_ns()}@example.org" for _ in range(count)]
        first = [["accounts", "create", admin, "--admin"], ["accounts", "password", admin]] if admin else []
        made = [
            [
                ["accounts", "create", email, *(["--plan", plan] if plan else [])],
                ["keys", "create", email, "--name", "e2e"],
            ]
            for email in emails
        ]
        after = [[email if arg == EMAIL else arg for arg in command] for email in emails for command in then]
        commands = [*first, *(c for pair in made for c in pair), *after]
        lines = self.replicas[0].cli_in_one_process(*commands, input=PASSWORD + "\n").splitlines()
        lines = lines[2:] if admin else lines  # the admin's account line, "password set"
        return [Member(email, lines[2 * i].split("\t")[0], lines[2 * i + 1]) for i, email in enumerate(emails)]

    def member(self, plan: str | None = None, *then: list[str]) -> Member:
        return self.members(1, plan, *then)[0]


def chat(gw: Gateway, key: str, client: httpx.Client, **extra: object) -> httpx.Response:
    body = {"model": MODEL, "messages": [{"role": "user", "content": "hello"}], **extra}
    return client.post(gw.url() + "/chat/completions", json=body, headers={"Authorization": f"Bearer {key}"})


def wait_for_records(cluster: Cluster, email: str, count: int) -> list[str]:
    """Usage records are written behind the answers (every 0.2 s): waits until `count` are there."""
    deadline = time.monotonic() + 10
    while len(ids := record_ids(cluster.database_url, email)) < count and time.monotonic() < deadline:
        time.sleep(0.1)
    return ids


def wait_for_leases_back(cluster: Cluster, email: str) -> None:
    """Each replica gives back an idle credit lease after 2 s."""
    deadline = time.monotonic() + 15
    while account_state(cluster.database_url, email).open_leases and time.monotonic() < deadline:
        time.sleep(0.2)


@pytest.fixture(scope="module")
def cluster(upstream: FakeUpstreamHandle, postgres_base_url: str, redis_url: str) -> Iterator[Cluster]:
    url, name = asyncio.run(_create_database(postgres_base_url))
    env = {"SLUICE_DATABASE_URL": url, "SLUICE_REDIS_URL": redis_url, "SLUICE_KEY_PEPPER": "replicas-0123456789abcdef"}
    replicas = [Gateway(upstream.base_url, extra_env=env) for _ in range(3)]
    for gw in replicas:
        del gw.env["SLUICE_KEY_CACHE_SECONDS"]  # the default, as deployed (the harness shortens it)
    try:
        with ThreadPoolExecutor(3) as pool:
            list(pool.map(Gateway.start, replicas))
        yield Cluster(replicas, url)
    finally:
        for gw in replicas:
            gw.stop()
        asyncio.run(_drop_database(postgres_base_url, name))


def test_a_limit_of_twenty_admits_exactly_twenty_across_the_three(cluster: Cluster) -> None:
    member = cluster.member(None, ["accounts", "limits", EMAIL, "--set", "chat=20/1m", "--subject", "account"])
    targets = [cluster.replicas[i % 3] for i in range(60)]
    with httpx.Client(timeout=15) as client, ThreadPoolExecutor(24) as pool:
        answers = list(pool.map(lambda gw: (gw.port, chat(gw, member.key, client)), targets))
    statuses = [response.status_code for _, response in answers]
    admitted = {gw.port: sum(p == gw.port and r.status_code == 200 for p, r in answers) for gw in cluster.replicas}
    assert (statuses.count(200), statuses.count(429)) == (20, 40), (statuses, admitted)
    answered = sorted(r.headers["x-request-id"] for _, r in answers if r.status_code == 200)
    assert sorted(wait_for_records(cluster, member.email, 20)) == answered  # one record each, none for a 429
    print("admitted by replica:", admitted)


def test_prepaid_credit_spent_through_three_replicas_is_never_negative_and_is_the_ledgers_sum(cluster: Cluster) -> None:
    member = cluster.member("flat", ["credits", "grant", EMAIL, "0.30"])  # thirty requests at one cent
    targets = [cluster.replicas[i % 3] for i in range(60)]
    with BalanceWatch(cluster.database_url, member.email) as watch:
        with httpx.Client(timeout=15) as client, ThreadPoolExecutor(24) as pool:
            answers = list(pool.map(lambda gw: chat(gw, member.key, client), targets))
        wait_for_leases_back(cluster, member.email)
    statuses = [response.status_code for response in answers]
    served = statuses.count(200)
    assert served + statuses.count(402) == 60, statuses
    # Each replica spends from a lease of its own, so a replica may refuse while another still
    # holds the last cents (docs/architecture.md, "Credit leases"); what it cannot do is overspend.
    assert 0 < served <= 30, statuses
    assert watch.samples and min(watch.samples) >= 0, "the balance went below zero"
    answered = sorted(r.headers["x-request-id"] for r in answers if r.status_code == 200)
    assert sorted(wait_for_records(cluster, member.email, served)) == answered
    state = account_state(cluster.database_url, member.email)
    assert state.open_leases == 0
    assert state.charged_micros == served * CENT
    assert state.balance_micros == state.entries_sum == 30 * CENT - served * CENT
    print(f"prepaid: {served} served, {60 - served} refused, lowest balance seen {min(watch.samples)} micro-USD")


def test_a_key_revoked_and_an_account_banned_through_one_replica_are_refused_by_all_three(cluster: Cluster) -> None:
    admin_email = f"root-{time.monotonic_ns()}@example.org"
    # Polled every 50 ms by three replicas: far above the default plan's 150 requests per 30 minutes.
    polled = ["accounts", "limits", EMAIL, "--set", "chat=100000/1m"]
    revoked, banned = cluster.members(2, None, polled, admin=admin_email)
    acting = cluster.replicas[0]
    with httpx.Client(timeout=15) as console, httpx.Client(timeout=15) as client:
        sign_in(console, acting.root, admin_email, PASSWORD)
        token = csrf_of(console, acting.root)
        # The key's id, from the account's page in the console, as the admin finds it there.
        page = console.get(f"{acting.root}/admin/accounts/{revoked.account_id}").text
        (key_id,) = re.findall(r'action="/admin/keys/(key_[0-9a-f]+)/revoke"', page)
        for gw in cluster.replicas:  # every replica has both principals in its key cache
            for member in (revoked, banned):
                assert chat(gw, member.key, client).status_code == 200

        revoke = console.post(
            f"{acting.root}/admin/keys/{key_id}/revoke",
            data={"_csrf": token, "account_id": revoked.account_id, "reason": "leaked"},
        )
        revoked_at = time.monotonic()
        assert revoke.status_code == 303, revoke.text
        ban = console.post(
            f"{acting.root}/admin/accounts/{banned.account_id}/status",
            data={"_csrf": token, "status": "banned", "reason": "abuse"},
        )
        banned_at = time.monotonic()
        assert ban.status_code == 303, ban.text

        def refused_after(gw: Gateway, member: Member, since: float, status: int) -> tuple[float, int]:
            """Seconds from the change until `gw` refuses the key with `status`, and the polls it took."""
            for polls in itertools.count(1):
                answer = chat(gw, member.key, client)
                if answer.status_code == status:
                    return time.monotonic() - since, polls
                assert answer.status_code == 200, answer.text
                assert time.monotonic() - since < CACHE_SECONDS + SLACK_SECONDS + 5, "never refused"
                time.sleep(0.05)
            raise AssertionError("unreachable")

        with ThreadPoolExecutor(6) as pool:
            jobs = {
                (gw.port, what): pool.submit(refused_after, gw, member, since, status)
                for gw in cluster.replicas
                for what, member, since, status in (
                    ("revoked", revoked, revoked_at, 401),
                    ("banned", banned, banned_at, 403),
                )
            }
            delays = {where: job.result() for where, job in jobs.items()}
    for (port, what), (seconds, polls) in delays.items():
        if port == acting.port:
            assert polls == 1, f"the replica that {what} it served it {polls - 1} more time(s)"
        else:
            assert seconds <= CACHE_SECONDS + SLACK_SECONDS, f"{what}: refused by :{port} after {seconds:.2f} s"
    print("refused after (s):", {f":{p} {w}": round(s, 2) for (p, w), (s, _) in delays.items()})


def _tagged(gw: Gateway, key: str, tag: str, stream: bool) -> httpx.Response:
    """One slow request (a non-stream waits 1.5 s for the upstream's head, a stream sends 10 frames
    150 ms apart), read to its end; the tag in its message lets the fake upstream say it arrived."""
    fake = {"chunks": 10, "chunk_delay_ms": 150} if stream else {"latency_ms": 1500}
    body = {"model": MODEL, "stream": stream, "messages": [{"role": "user", "content": tag}], "fake": fake}
    with httpx.Client(timeout=30) as client:
        response = client.post(gw.url() + "/chat/completions", json=body, headers={"Authorization": f"Bearer {key}"})
        response.read()
        return response


def test_sigterm_on_one_replica_under_load_loses_no_accepted_request_and_the_others_keep_serving(
    cluster: Cluster, upstream: FakeUpstreamHandle
) -> None:
    """The module's last test: the third replica does not come back."""
    member = cluster.member("flat", ["credits", "grant", EMAIL, "100"])
    leaving, staying = cluster.replicas[2], cluster.replicas[:2]
    answers_elsewhere: list[tuple[float, httpx.Response]] = []
    stop = threading.Event()

    def steady_load() -> None:
        with httpx.Client(timeout=15) as client:
            for gw in itertools.cycle(staying):
                if stop.is_set():
                    return
                answers_elsewhere.append((time.monotonic(), chat(gw, member.key, client)))
                time.sleep(0.01)

    tags = [f"drain-{i}-{time.monotonic_ns()}" for i in range(12)]
    load = threading.Thread(target=steady_load)
    load.start()
    try:
        with ThreadPoolExecutor(len(tags)) as pool:
            inflight = [pool.submit(_tagged, leaving, member.key, tag, i % 3 == 0) for i, tag in enumerate(tags)]
            arrived: set[str] = set()
            deadline = time.monotonic() + 10
            while len(arrived) < len(tags):  # accepted: the replica has admitted it and called the upstream
                assert time.monotonic() < deadline, f"only {len(arrived)} of {len(tags)} reached the upstream"
                arrived |= {tag for r in upstream.requests() if r.method == "POST" for tag in tags if tag in r.body}
                time.sleep(0.02)
            assert leaving.process is not None
            leaving.process.send_signal(signal.SIGTERM)
            signalled = time.monotonic()
            drained = [job.result() for job in inflight]
        assert leaving.process.wait(timeout=30) in STOPPED_CLEANLY
        exited = time.monotonic()
        time.sleep(1.0)  # the other two keep serving after it has gone
    finally:
        stop.set()
        load.join()

    for i, response in enumerate(drained):
        assert response.status_code == 200, response.text
        if i % 3 == 0:
            assert response.text.rstrip().endswith("data: [DONE]"), response.text[-200:]
            assert response.text.count("data: ") >= 10
        else:
            assert response.json()["choices"][0]["message"]["content"] == completion_text(5)
    statuses_elsewhere = [response.status_code for _, response in answers_elsewhere]
    assert set(statuses_elsewhere) == {200}, [
        (round(at - signalled, 2), r.status_code, r.text) for at, r in answers_elsewhere if r.status_code != 200
    ]
    assert any(signalled < at < exited for at, _ in answers_elsewhere), "no request was served during the drain"
    assert any(at > exited for at, _ in answers_elsewhere), "no request was served after the replica left"

    answered = sorted(r.headers["x-request-id"] for r in [*drained, *(r for _, r in answers_elsewhere)])
    assert sorted(wait_for_records(cluster, member.email, len(answered))) == answered  # each billed once
    wait_for_leases_back(cluster, member.email)
    state = account_state(cluster.database_url, member.email)
    assert state.open_leases == 0
    assert state.charged_micros == len(answered) * CENT
    assert state.balance_micros == state.entries_sum == 10_000 * CENT - state.charged_micros
    during = sum(signalled < at < exited for at, _ in answers_elsewhere)
    print(
        f"SIGTERM: {len(drained)} drained, exit after {exited - signalled:.2f} s, {during} served elsewhere meanwhile"
    )
