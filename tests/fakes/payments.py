"""In-memory fakes of the purchase and redemption ports, for use-case tests (and their contract tests).

`ScriptedPayments` stands in for a provider: it makes checkout sessions, and accepts a webhook body
(a JSON PaymentEvent) only when its signature is `GOOD_SIGNATURE` (`OLD_SIGNATURE` is a replay).
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence
from dataclasses import asdict, replace
from datetime import datetime

from application.ports.redemption_codes import RedeemOutcome
from domain.credits import LedgerEntry
from domain.errors import PaymentProviderFailed, PaymentsUnavailable
from domain.payments import (
    Checkout,
    CheckoutRequest,
    CheckoutSession,
    CheckoutStatus,
    PaymentEvent,
    PaymentEventKind,
    RefusalReason,
    WebhookRefusal,
)
from domain.redemption import RedeemRefusal, RedemptionCode
from tests.fakes.memory import InMemoryCreditLedger

GOOD_SIGNATURE = "t=1,v1=good"
OLD_SIGNATURE = "t=0,v1=good"


def webhook_body(event: PaymentEvent) -> bytes:
    return json.dumps(asdict(event)).encode()


class ScriptedPayments:
    def __init__(self, missing: tuple[str, ...] = ()) -> None:
        self._missing = missing
        self._numbers = itertools.count(1)
        self.requests: list[CheckoutRequest] = []
        self.failure: str | None = None  # the next create_checkout raises PaymentProviderFailed with it

    @property
    def missing(self) -> tuple[str, ...]:
        return self._missing

    async def create_checkout(self, request: CheckoutRequest) -> CheckoutSession:
        if self._missing:
            raise PaymentsUnavailable(self._missing)
        if self.failure is not None:
            failure, self.failure = self.failure, None
            raise PaymentProviderFailed(failure)
        self.requests.append(request)
        session_id = f"cs_{next(self._numbers)}"
        return CheckoutSession(session_id, f"https://pay.example/{session_id}")

    def verify_webhook(self, payload: bytes, signature: str | None) -> PaymentEvent | WebhookRefusal:
        if self._missing:
            return WebhookRefusal(RefusalReason.UNCONFIGURED)
        if signature == OLD_SIGNATURE:
            return WebhookRefusal(RefusalReason.STALE)
        if signature != GOOD_SIGNATURE:
            return WebhookRefusal(RefusalReason.BAD_SIGNATURE)
        try:
            raw = json.loads(payload)
            return PaymentEvent(**{**raw, "kind": PaymentEventKind(raw["kind"])})
        except (ValueError, TypeError, KeyError):
            return WebhookRefusal(RefusalReason.MALFORMED)


class InMemoryCheckoutStore:
    def __init__(self) -> None:
        self._rows: dict[str, Checkout] = {}

    async def add(self, checkout: Checkout) -> None:
        if checkout.session_id in self._rows:
            raise ValueError(f"checkout {checkout.session_id} exists")
        self._rows[checkout.session_id] = checkout

    async def get(self, session_id: str) -> Checkout | None:
        return self._rows.get(session_id)

    async def close(self, session_id: str, status: CheckoutStatus, now: datetime) -> bool:
        row = self._rows.get(session_id)
        if row is None or row.status is not CheckoutStatus.OPEN:
            return False
        self._rows[session_id] = row.closed(status, now)
        return True

    async def for_account(self, account_id: str, limit: int) -> list[Checkout]:
        rows = [c for c in self._rows.values() if c.account_id == account_id]
        return sorted(rows, key=lambda c: (-c.created_at.timestamp(), c.session_id))[:limit]


class InMemoryRedemptionCodes:
    def __init__(self) -> None:
        self._codes: dict[str, RedemptionCode] = {}
        self._redeemed: set[tuple[str, str]] = set()

    async def add_many(self, codes: Sequence[RedemptionCode]) -> None:
        for code in codes:
            self._codes[code.id] = code

    async def get(self, code_id: str) -> RedemptionCode | None:
        return self._codes.get(code_id)

    async def list_all(self) -> list[RedemptionCode]:
        return sorted(self._codes.values(), key=lambda c: (-c.created_at.timestamp(), c.id))

    async def revoke(self, code_id: str, now: datetime) -> bool:
        code = self._codes.get(code_id)
        if code is None or code.revoked_at is not None:
            return False
        self._codes[code_id] = replace(code, revoked_at=now)
        return True

    async def redeem(self, code_hash: str, account_id: str, now: datetime) -> RedeemOutcome:
        code = next((c for c in self._codes.values() if c.code_hash == code_hash), None)
        if code is None:
            return RedeemOutcome(None, RedeemRefusal.UNKNOWN)
        if (code.id, account_id) in self._redeemed:
            return RedeemOutcome(code, RedeemRefusal.ALREADY_REDEEMED)
        refusal = code.refusal(now)
        if refusal is not None:
            return RedeemOutcome(code, refusal)
        self._redeemed.add((code.id, account_id))
        self._codes[code.id] = used = replace(code, uses=code.uses + 1)
        return RedeemOutcome(used, None)


class InMemoryCreditHistory:
    """The ledger fake's entries, newest first."""

    def __init__(self, ledger: InMemoryCreditLedger) -> None:
        self._ledger = ledger

    async def recent(self, account_id: str, offset: int, limit: int) -> list[LedgerEntry]:
        entries = [e for e in reversed(self._ledger.all_entries) if e.account_id == account_id]
        return entries[offset : offset + limit]
