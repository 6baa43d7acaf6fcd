"""In-memory fakes of every port in `application.ports`, for use-case tests.

They honour each Protocol's documented contract and no more: they never do a use case's job for
it (the key repository returns revoked and expired keys, the ledger refuses a short reservation but
does not check who asked, the recorder keeps records out of the queries until `flush`). Each also
remembers what it was asked, so tests can assert on calls as well as on state.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncGenerator, AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from application.background import BackgroundTasks
from application.metering import Meter
from application.ports.moderation import Moderator
from application.ports.rate_limiter import SpendBatch
from application.ports.upstream import StreamChunk, UpstreamError, UpstreamReply
from application.ports.usage import DayModelUsage, Grouping, UsageGroup
from application.principal import Principal
from domain.accounts import Account, AccountStatus, new_account
from domain.catalog import ModelInfo, ModelPrice
from domain.client_policy import ClientPolicy
from domain.credits import EntryKind, LedgerEntry, WriteOutcome, grant_entry
from domain.errors import Conflict
from domain.keys import ApiKey, issue_key
from domain.leases import Lease, LeaseStanding, close_key, returned_micros
from domain.model_names import ModelNames
from domain.plans import DEFAULT_PLAN, Plan
from domain.pricing import Usage
from domain.rate_policy import Decision, LimitCheck, decide_all, peek
from domain.usage import UsageRecord, UsageTotals

EPOCH = datetime(2025, 1, 15, 12, 0, 0, tzinfo=UTC)  # a Wednesday

# Priced like the fake HTTP upstream: $1 per million prompt tokens, $2 per million completion tokens.
CHEAP_MODEL = ModelInfo(
    "openai/gpt-4o-mini",
    ModelPrice(prompt_picos=1_000_000, completion_picos=2_000_000),
    context_length=128_000,
    max_completion_tokens=16_384,
)


# --------------------------------------------------------------------------------------------- clock


class FakeClock:
    """Wall time and monotonic time that move only when a test moves them."""

    def __init__(self, now: datetime = EPOCH, monotonic: float = 1000.0) -> None:
        self._now = _aware_utc(now)
        self._monotonic = float(monotonic)

    def now(self) -> datetime:
        return self._now

    def monotonic(self) -> float:
        return self._monotonic

    def set_now(self, now: datetime) -> None:
        self._now = _aware_utc(now)

    def set_monotonic(self, value: float) -> None:
        if value < self._monotonic:
            raise ValueError("monotonic time never goes backwards")
        self._monotonic = float(value)

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("time only moves forward")
        self._now += timedelta(seconds=seconds)
        self._monotonic += seconds


def _aware_utc(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("the clock speaks aware UTC datetimes only")
    return value.astimezone(UTC)


# ------------------------------------------------------------------------------------------ accounts


class InMemoryAccountRepository:
    def __init__(self, accounts: Iterable[Account] = ()) -> None:
        self._by_id: dict[str, Account] = {}
        for account in accounts:
            self._insert(account)

    def _insert(self, account: Account) -> None:
        if account.id in self._by_id:
            raise Conflict(f"an account with id {account.id} exists already")
        if any(a.email == account.email for a in self._by_id.values()):
            raise Conflict(f"an account for {account.email} exists already")
        self._by_id[account.id] = account

    async def add(self, account: Account) -> None:
        """Raises Conflict when the email is taken."""
        self._insert(account)

    async def get(self, account_id: str) -> Account | None:
        return self._by_id.get(account_id)

    async def get_by_email(self, email: str) -> Account | None:
        return next((a for a in self._by_id.values() if a.email == email), None)

    async def save(self, account: Account) -> None:
        """Persists status, role, plan, rate-limit and spend-cap overrides of an existing account (nothing else)."""
        stored = self._by_id.get(account.id)
        if stored is None:
            raise LookupError(f"no account with id {account.id} to save")
        self._by_id[account.id] = replace(
            stored,
            status=account.status,
            role=account.role,
            plan=account.plan,
            rate_limits=account.rate_limits,
            spend_caps=account.spend_caps,
        )

    async def list_all(self, plan: str | None = None, status: AccountStatus | None = None) -> list[Account]:
        found = [a for a in self._by_id.values() if plan in (None, a.plan) and status in (None, a.status)]
        return sorted(found, key=lambda a: a.email)

    # test helpers
    @property
    def all(self) -> list[Account]:
        return list(self._by_id.values())

    @property
    def all_by_id(self) -> dict[str, Account]:
        return dict(self._by_id)


# ------------------------------------------------------------------------------------------ api keys


class InMemoryApiKeyRepository:
    """Keys by id and by hash; lookups return keys whatever their state (callers check it)."""

    def __init__(self, accounts: InMemoryAccountRepository) -> None:
        self._accounts = accounts
        self._by_id: dict[str, ApiKey] = {}
        self.lookups: list[str] = []  # the hashes find_with_account was asked for

    async def add(self, key: ApiKey) -> None:
        if await self._accounts.get(key.account_id) is None:
            raise LookupError(f"no account {key.account_id} for key {key.id}")
        if key.id in self._by_id:
            raise Conflict(f"a key with id {key.id} exists already")
        if any(k.secret_hash == key.secret_hash for k in self._by_id.values()):
            raise Conflict("a key with this hash exists already")
        self._by_id[key.id] = key

    async def get(self, key_id: str) -> ApiKey | None:
        return self._by_id.get(key_id)

    async def find_with_account(self, secret_hash: str) -> tuple[ApiKey, Account] | None:
        """The authentication lookup: one indexed read by hash, key and owner together."""
        self.lookups.append(secret_hash)
        key = next((k for k in self._by_id.values() if k.secret_hash == secret_hash), None)
        if key is None:
            return None
        account = await self._accounts.get(key.account_id)
        if account is None:
            return None
        return key, account

    async def list_for_account(self, account_id: str) -> list[ApiKey]:
        keys = [k for k in self._by_id.values() if k.account_id == account_id]
        return sorted(keys, key=lambda k: k.created_at)

    async def count_active(self, account_id: str, now: datetime) -> int:
        return sum(1 for k in self._by_id.values() if k.account_id == account_id and k.is_active(now))

    async def revoke(self, key_id: str, now: datetime) -> bool:
        """False when there is no such key; revoking twice keeps the first revocation time."""
        key = self._by_id.get(key_id)
        if key is None:
            return False
        self._by_id[key_id] = key.revoked(now)
        return True


# ------------------------------------------------------------------------------------------- credits


class InMemoryCreditLedger:
    """Balance is always the sum of an account's entries; each idempotency key is written once."""

    def __init__(self) -> None:
        self._entries: list[LedgerEntry] = []
        self._keys: set[str] = set()
        self.refused_reservations: list[LedgerEntry] = []
        self.duplicates: list[LedgerEntry] = []  # entries not written because their key was seen
        self.syncs: list[str | None] = []

    async def balance(self, account_id: str) -> int:
        return self._balance(account_id)

    def _balance(self, account_id: str) -> int:
        return sum(e.amount_micros for e in self._entries if e.account_id == account_id)

    async def append(self, entry: LedgerEntry) -> bool:
        """Writes the entry and moves the balance, once per idempotency key."""
        if entry.idempotency_key in self._keys:
            self.duplicates.append(entry)
            return False
        self._write(entry)
        return True

    async def reserve(self, entry: LedgerEntry) -> int | None:
        """Appends a negative reservation if the balance covers it; None (nothing written) if short."""
        if entry.kind is not EntryKind.RESERVE or entry.amount_micros >= 0:
            raise ValueError(f"not a reservation: {entry!r}")
        if entry.idempotency_key in self._keys:
            self.duplicates.append(entry)
            return self._balance(entry.account_id)
        balance = self._balance(entry.account_id)
        if balance + entry.amount_micros < 0:
            self.refused_reservations.append(entry)
            return None
        self._write(entry)
        return balance + entry.amount_micros

    async def sync(self, account_id: str | None = None) -> None:
        self.syncs.append(account_id)

    async def entries(self, account_id: str) -> list[LedgerEntry]:
        return [e for e in self._entries if e.account_id == account_id]

    def payer(self, request_id: str) -> str | None:
        return None

    def _write(self, entry: LedgerEntry) -> None:
        self._keys.add(entry.idempotency_key)
        self._entries.append(entry)

    # CreditAdmin
    async def entry_by_key(self, idempotency_key: str) -> LedgerEntry | None:
        return next((e for e in self._entries if e.idempotency_key == idempotency_key), None)

    async def deduct(self, entry: LedgerEntry) -> tuple[WriteOutcome, int]:
        """Writes a negative entry only if the balance stays at or above zero."""
        if entry.amount_micros >= 0:
            raise ValueError(f"not a deduction: {entry!r}")
        balance = self._balance(entry.account_id)
        if entry.idempotency_key in self._keys:
            self.duplicates.append(entry)
            return WriteOutcome.DUPLICATE, balance
        if balance + entry.amount_micros < 0:
            return WriteOutcome.SHORT, balance
        self._write(entry)
        return WriteOutcome.WRITTEN, balance + entry.amount_micros

    async def balances(self, account_ids: Sequence[str]) -> dict[str, int]:
        """Every id asked for: the fake keeps no accounts, so an unknown id has a zero balance."""
        return {account_id: self._balance(account_id) for account_id in account_ids}

    # test helpers
    @property
    def all_entries(self) -> list[LedgerEntry]:
        return list(self._entries)


class InMemoryLeaseStore:
    """Leases over an InMemoryCreditLedger: a RESERVE entry to open, a `:close` SETTLE entry to close.

    What a reclaimed lease spent is what `spent` says its usage records charged (set by the test).
    """

    def __init__(self, ledger: InMemoryCreditLedger) -> None:
        self.ledger = ledger
        self.leases: dict[str, Lease] = {}
        self.closed: dict[str, str] = {}  # lease id -> "owner" or "reclaim"
        self.spent: dict[str, int] = {}
        self.failing = False  # every call raises, as an unreachable database would
        self.lose_open_replies = False  # `open` commits, then raises: the reply was lost on the way

    def _check(self) -> None:
        if self.failing:
            raise ConnectionError("lease store unreachable")

    async def open(self, lease: Lease) -> bool:
        self._check()
        amount = -lease.amount_micros
        taken = LedgerEntry(lease.account_id, EntryKind.RESERVE, amount, lease.id, lease.opened_at, "lease")
        if await self.ledger.reserve(taken) is None:
            return False
        self.leases[lease.id] = lease
        if self.lose_open_replies:
            raise ConnectionError("connection lost after the commit")
        return True

    async def close(self, lease_id: str, returned_micros: int, now: datetime) -> bool:
        self._check()
        if lease_id not in self.leases:
            return False
        return await self._close(lease_id, returned_micros, now, "owner")

    async def reclaim(self, lease_id: str, now: datetime) -> int | None:
        self._check()
        lease = self.leases.get(lease_id)
        if lease is None or lease_id in self.closed or not lease.expired(now):
            return None
        amount = returned_micros(lease, self.spent.get(lease_id, 0))
        return amount if await self._close(lease_id, amount, now, "reclaim") else None

    async def _close(self, lease_id: str, amount: int, now: datetime, by: str) -> bool:
        lease = self.leases[lease_id]
        written = await self.ledger.append(
            LedgerEntry(lease.account_id, EntryKind.SETTLE, amount, close_key(lease_id), now, "lease")
        )
        self.closed.setdefault(lease_id, by)
        return written

    async def renew(self, lease_ids, expires_at: datetime) -> set[str]:  # type: ignore[no-untyped-def]
        self._check()
        still = {i for i in lease_ids if i in self.leases and i not in self.closed}
        for lease_id in still:
            self.leases[lease_id] = replace(self.leases[lease_id], expires_at=expires_at)
        return still

    async def expired(self, now: datetime) -> list[Lease]:
        self._check()
        return [x for i, x in self.leases.items() if i not in self.closed and x.expired(now)]

    async def standing(self) -> list[LeaseStanding]:
        self._check()
        return [
            LeaseStanding(x, x.account_id, self.spent.get(i, 0)) for i, x in self.leases.items() if i not in self.closed
        ]


# --------------------------------------------------------------------------------------------- usage


class InMemoryUsageStore:
    """The durable side: implements UsageQueries over records that were flushed into it."""

    def __init__(
        self, records: Iterable[UsageRecord] = (), accounts: InMemoryAccountRepository | None = None
    ) -> None:
        self.accounts = accounts  # where grouping by plan reads each account's plan
        self._records: dict[str, UsageRecord] = {}
        self.duplicates: list[UsageRecord] = []
        for record in records:
            self.write(record)

    def write(self, record: UsageRecord) -> bool:
        """Insert-once by request id (a record can never be written twice)."""
        if record.id in self._records:
            self.duplicates.append(record)
            return False
        self._records[record.id] = record
        return True

    @property
    def records(self) -> list[UsageRecord]:
        return list(self._records.values())

    async def totals_for_account(self, account_id: str) -> UsageTotals:
        return _totals(r for r in self._records.values() if r.account_id == account_id)

    async def totals_for_key(self, key_id: str) -> UsageTotals:
        return _totals(r for r in self._records.values() if r.key_id == key_id)

    async def charged_since(self, account_id: str, since: datetime, key_id: str | None = None) -> int:
        return sum(
            r.charged_micros
            for r in self._records.values()
            if r.account_id == account_id and r.created_at >= since and (key_id is None or r.key_id == key_id)
        )

    async def recent(self, account_id: str, limit: int) -> list[UsageRecord]:
        mine = [r for r in self._records.values() if r.account_id == account_id]
        # newest first; insertion order breaks ties so the order is deterministic
        ordered = sorted(enumerate(mine), key=lambda pair: (pair[1].created_at, pair[0]), reverse=True)
        return [r for _, r in ordered[: max(limit, 0)]]

    async def by_day_and_model(self, account_id: str, since: datetime) -> list[DayModelUsage]:
        groups: dict[tuple[str, str], list[UsageRecord]] = {}
        for r in self._records.values():
            if r.account_id == account_id and r.created_at >= since:
                groups.setdefault((r.created_at.astimezone(UTC).date().isoformat(), r.model), []).append(r)
        return [DayModelUsage(day, model, _totals(groups[day, model])) for day, model in sorted(groups)]

    async def last_used(self, key_ids: Sequence[str]) -> dict[str, datetime]:
        wanted = set(key_ids)
        newest: dict[str, datetime] = {}
        for r in self._records.values():
            if r.key_id in wanted and (r.key_id not in newest or r.created_at > newest[r.key_id]):
                newest[r.key_id] = r.created_at
        return newest

    async def summary(
        self, account_id: str | None, since: datetime | None, by: Grouping | None, *, top: int | None = None
    ) -> list[UsageGroup]:
        chosen = [
            r
            for r in self._records.values()
            if account_id in (None, r.account_id) and (since is None or r.created_at >= since)
        ]
        if by is None:
            return [UsageGroup(None, _totals(chosen))]
        groups: dict[str, list[UsageRecord]] = {}
        for r in chosen:
            groups.setdefault(self._group_key(r, by), []).append(r)
        found = [UsageGroup(key, _totals(groups[key])) for key in sorted(groups)]
        if top is None:
            return found
        found.sort(key=lambda g: (-g.totals.charged_micros, -g.totals.requests, g.key))
        return found[:top]

    def _group_key(self, record: UsageRecord, by: Grouping) -> str:
        if by is Grouping.MODEL:
            return record.model
        if by is Grouping.ACCOUNT:
            return record.account_id
        if by is Grouping.PLAN:
            account = self.accounts.all_by_id.get(record.account_id) if self.accounts is not None else None
            return account.plan if account is not None else "-"
        return record.created_at.astimezone(UTC).date().isoformat()


def _totals(records: Iterable[UsageRecord]) -> UsageTotals:
    requests = prompt = completion = cost = charged = 0
    for r in records:
        requests += 1
        prompt += r.prompt_tokens
        completion += r.completion_tokens
        cost += r.cost_micros
        charged += r.charged_micros
    return UsageTotals(requests, prompt, completion, cost, charged)


class InMemoryUsageRecorder:
    """Accepts records at once; they reach the store (and the queries) only on `flush`."""

    def __init__(self, store: InMemoryUsageStore | None = None) -> None:
        self.store = store if store is not None else InMemoryUsageStore()
        self.accepted: list[UsageRecord] = []  # every record ever handed to `record`, in order
        self._pending: list[UsageRecord] = []
        self.flushes = 0

    def record(self, record: UsageRecord) -> None:
        self.accepted.append(record)
        self._pending.append(record)

    async def flush(self) -> None:
        self.flushes += 1
        pending, self._pending = self._pending, []
        for record in pending:
            self.store.write(record)

    @property
    def pending(self) -> int:
        return len(self._pending)


# -------------------------------------------------------------------------------------- rate limits


class RecordingRateLimiter:
    """GCRA over a dict of TATs on the fake clock's monotonic time, all or nothing per call."""

    def __init__(self, clock: FakeClock) -> None:
        self._clock = clock
        self.tats: dict[str, float | None] = {}
        self.calls: list[list[LimitCheck]] = []
        self.decisions: list[list[Decision]] = []
        self.peeks: list[list[LimitCheck]] = []

    async def acquire(self, checks: Sequence[LimitCheck]) -> list[Decision]:
        checks = list(checks)
        self.calls.append(checks)
        tats = [self.tats.get(c.key) for c in checks]
        decisions, new_tats = decide_all(tats, self._clock.monotonic(), checks)
        for check, tat in zip(checks, new_tats, strict=True):
            if tat is not None:
                self.tats[check.key] = tat
        self.decisions.append(decisions)
        return decisions

    async def peek(self, checks: Sequence[LimitCheck]) -> list[Decision]:
        self.peeks.append(list(checks))
        now = self._clock.monotonic()
        return [peek(self.tats.get(c.key), now, c.limit, c.window, c.cost) for c in checks]


@dataclass
class _Counter:
    value: int
    expires_at: float


class InMemorySpendCounter:
    """Counters with TTLs on the fake clock's monotonic time (like Redis INCRBY + EXPIRE).

    A SpendStore: batches are applied once per id; `adds` lists every addition applied, by either way.
    """

    def __init__(self, clock: FakeClock) -> None:
        self._clock = clock
        self._counters: dict[str, _Counter] = {}
        self._batch_ids: set[str] = set()
        self.seeds: list[tuple[str, int, int]] = []
        self.adds: list[tuple[str, int, int]] = []
        self.batches: list[SpendBatch] = []  # every batch received, resends included

    def _live(self, key: str) -> _Counter | None:
        counter = self._counters.get(key)
        if counter is not None and counter.expires_at <= self._clock.monotonic():
            del self._counters[key]
            return None
        return counter

    async def spent(self, key: str) -> int | None:
        counter = self._live(key)
        return None if counter is None else counter.value

    async def seed(self, key: str, micros: int, ttl_seconds: int) -> None:
        """Sets the counter only if it does not exist yet."""
        self.seeds.append((key, micros, ttl_seconds))
        if self._live(key) is None:
            self._counters[key] = _Counter(micros, self._clock.monotonic() + ttl_seconds)

    async def add_batch(self, batch: SpendBatch) -> None:
        self.batches.append(batch)
        if batch.batch_id in self._batch_ids:
            return
        self._batch_ids.add(batch.batch_id)
        for key, (micros, ttl_seconds) in batch.additions.items():
            await self.add(key, micros, ttl_seconds)

    async def add(self, key: str, micros: int, ttl_seconds: int) -> None:
        self.adds.append((key, micros, ttl_seconds))
        counter = self._live(key)
        if counter is None:
            self._counters[key] = _Counter(micros, self._clock.monotonic() + ttl_seconds)
        else:
            counter.value += micros
            counter.expires_at = self._clock.monotonic() + ttl_seconds

    # test helpers
    def set(self, key: str, micros: int, ttl_seconds: float = 86400) -> None:
        self._counters[key] = _Counter(micros, self._clock.monotonic() + ttl_seconds)

    def evict_all(self) -> None:
        """Plays a counter store that lost its data (a restart, an eviction)."""
        self._counters.clear()

    @property
    def keys(self) -> list[str]:
        return [k for k in list(self._counters) if self._live(k) is not None]


# ------------------------------------------------------------------------------------------ upstream


ScriptedStream = Sequence[StreamChunk | UpstreamError]


class FakeUpstreamStream:
    """Yields its script; an UpstreamError in the script is raised at that point of the iteration."""

    def __init__(self, script: ScriptedStream) -> None:
        self._script = list(script)
        self.yielded: list[StreamChunk] = []
        self.closed = False
        self.close_calls = 0
        self._iterator: AsyncGenerator[StreamChunk, None] | None = None

    def __aiter__(self) -> AsyncIterator[StreamChunk]:
        if self._iterator is not None:
            raise RuntimeError("an upstream stream can be iterated only once")
        self._iterator = self._frames()
        return self._iterator

    def batches(self) -> AsyncIterator[Sequence[StreamChunk]]:
        """Each scripted chunk as a group of its own (a script says nothing of how reads group them)."""
        return self._batches()

    async def _batches(self) -> AsyncGenerator[Sequence[StreamChunk], None]:
        async for chunk in self.__aiter__():
            yield (chunk,)

    async def _frames(self) -> AsyncGenerator[StreamChunk, None]:
        for item in self._script:
            if self.closed:
                raise UpstreamError(502, "the upstream stream was closed", "closed")
            if isinstance(item, UpstreamError):
                raise item
            self.yielded.append(item)
            yield item

    async def aclose(self) -> None:
        """Closes the upstream request; closing twice is harmless."""
        self.close_calls += 1
        self.closed = True
        if self._iterator is not None:
            await self._iterator.aclose()


@dataclass
class UpstreamCall:
    method: str  # "complete", "stream" or "list_models"
    path: str
    body: bytes = b""


@dataclass
class FakeUpstream:
    """Answers from scripts, in order; records every call and every stream it opened.

    `replies` feed `complete`, `streams` feed `stream` (an UpstreamError there means the stream
    could not be opened), `models` is what `list_models` returns. Running out of script is an error.
    """

    replies: list[UpstreamReply | UpstreamError] = field(default_factory=list)
    streams: list[ScriptedStream | UpstreamError] = field(default_factory=list)
    models: bytes = b'{"data": []}'
    calls: list[UpstreamCall] = field(default_factory=list)
    opened: list[FakeUpstreamStream] = field(default_factory=list)

    def script_reply(self, reply: UpstreamReply | UpstreamError) -> None:
        self.replies.append(reply)

    def script_stream(self, stream: ScriptedStream | UpstreamError) -> None:
        self.streams.append(stream)

    async def complete(self, path: str, body: bytes) -> UpstreamReply:
        self.calls.append(UpstreamCall("complete", path, body))
        if not self.replies:
            raise AssertionError("FakeUpstream.complete called with no reply scripted")
        reply = self.replies.pop(0)
        if isinstance(reply, UpstreamError):
            raise reply
        return reply

    async def stream(self, path: str, body: bytes) -> FakeUpstreamStream:
        self.calls.append(UpstreamCall("stream", path, body))
        if not self.streams:
            raise AssertionError("FakeUpstream.stream called with no stream scripted")
        script = self.streams.pop(0)
        if isinstance(script, UpstreamError):
            raise script
        stream = FakeUpstreamStream(script)
        self.opened.append(stream)
        return stream

    async def list_models(self, path: str) -> bytes:
        self.calls.append(UpstreamCall("list_models", path))
        return self.models


class FakeModelCatalog:
    """A fixed catalogue. `known=False` plays an upstream whose catalogue could not be loaded."""

    def __init__(
        self,
        models: Iterable[ModelInfo] = (),
        *,
        known: bool = True,
        listings: dict[str, bytes] | None = None,
        aliases: Mapping[str, str] | None = None,
    ) -> None:
        self.by_id = {m.id: m for m in models}
        self.aliases = dict(aliases or {})
        self.is_known = known
        self.listings = dict(listings or {})
        self.lookups: list[str] = []

    def add(self, model: ModelInfo) -> None:
        self.by_id[model.id] = model

    async def get(self, model_id: str) -> ModelInfo | None:
        self.lookups.append(model_id)
        if not self.is_known:
            return None
        return self.by_id.get(model_id)

    async def listing(self, kind: str) -> bytes:
        if kind not in ("models", "embeddings"):
            raise ValueError(f"no listing of kind {kind!r}")
        return self.listings.get(kind, b'{"data": []}')

    async def models(self, kind: str) -> list[ModelInfo] | None:
        if kind not in ("models", "embeddings"):
            raise ValueError(f"no listing of kind {kind!r}")
        if not self.is_known:
            return None
        return list(self.by_id.values()) if kind == "models" else []

    async def known(self) -> bool:
        return self.is_known

    async def resolve(self, name: str) -> str | None:
        """The `ModelResolver` port by the domain's rule over the models added so far."""
        if not self.is_known:
            return ModelNames((), self.aliases).resolve(name) or name
        return ModelNames(self.by_id, self.aliases).resolve(name)


# ----------------------------------------------------------------------------------------- telemetry


class RecordingTelemetry:
    """The `Telemetry` port (the metrics page) over a fixed body."""

    def __init__(self, body: bytes = b"# no metrics\n") -> None:
        self.body = body

    def exposition(self) -> tuple[bytes, str] | None:
        """The metrics page body and its content type; None when it is served on a port of its own."""
        return self.body, "text/plain; charset=utf-8"


# ------------------------------------------------------------------------------------------- helpers


_frame_ids = itertools.count(1)


def content_frame(text: str) -> StreamChunk:
    """A chat chunk carrying `text` (what an adapter would have parsed off the wire)."""
    body = {"id": f"gen-{next(_frame_ids)}", "choices": [{"index": 0, "delta": {"content": text}}]}
    return StreamChunk(raw=_sse(body), content_chars=len(text))


def usage_frame(prompt_tokens: int, completion_tokens: int, cost_micros: int | None) -> StreamChunk:
    """The usage-only chunk (choices == []) that the gateway asks the upstream for."""
    cost = None if cost_micros is None else cost_micros / 1_000_000
    usage = {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens, "cost": cost}
    return StreamChunk(
        raw=_sse({"id": "gen-usage", "choices": [], "usage": usage}),
        usage=Usage(prompt_tokens, completion_tokens, cost_micros),
        report_only=True,
    )


def _sse(body: object) -> bytes:
    return b"data: " + json.dumps(body, separators=(",", ":")).encode() + b"\n\n"


DONE_FRAME = StreamChunk(raw=b"data: [DONE]\n\n", last=True)


# ------------------------------------------------------------------------------------------- wiring


@dataclass
class Harness:
    """Every fake, wired into a Meter and the two proxy use cases the way the composition root does."""

    clock: FakeClock = field(default_factory=FakeClock)
    catalog: FakeModelCatalog = field(default_factory=lambda: FakeModelCatalog([CHEAP_MODEL]))
    upstream: FakeUpstream = field(default_factory=FakeUpstream)
    ledger: InMemoryCreditLedger = field(default_factory=InMemoryCreditLedger)
    gateway_models: frozenset[str] | None = None
    client_policy: ClientPolicy | None = None
    moderator: Moderator | None = None
    resolve_names: bool = False  # resolve model names through the catalogue (aliases, provider-less ids)

    def __post_init__(self) -> None:
        self.accounts = InMemoryAccountRepository()
        self.keys = InMemoryApiKeyRepository(self.accounts)
        self.limiter = RecordingRateLimiter(self.clock)
        self.spend = InMemorySpendCounter(self.clock)
        self.usage = InMemoryUsageStore()
        self.recorder = InMemoryUsageRecorder(self.usage)
        self.tasks = BackgroundTasks()
        self.meter = Meter(
            limiter=self.limiter,
            spend=self.spend,
            ledger=self.ledger,
            catalog=self.catalog,
            recorder=self.recorder,
            usage_queries=self.usage,
            clock=self.clock,
            gateway_models=self.gateway_models,
            resolver=self.catalog if self.resolve_names else None,
            client_policy=self.client_policy,
            moderator=self.moderator,
        )

    async def principal(
        self,
        plan: Plan | None = None,
        *,
        email: str = "ada@example.com",
        allowed_models: frozenset[str] | None = None,
        balance_micros: int = 0,
    ) -> Principal:
        """An account with one key on `plan` (the default plan when None), optionally funded."""
        plan = plan or DEFAULT_PLAN
        account = new_account(email, plan.name, self.clock.now())
        await self.accounts.add(account)
        issued = issue_key(
            account.id, "test", b"pepper", self.clock.now(), active_keys=0, allowed_models=allowed_models
        )
        await self.keys.add(issued.key)
        if balance_micros:
            seed = grant_entry(account.id, balance_micros, f"seed:{account.id}", self.clock.now())
            await self.ledger.append(seed)
        return Principal(key=issued.key, account=account, plan=plan)
