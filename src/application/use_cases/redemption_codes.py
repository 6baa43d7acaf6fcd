"""Redemption codes: operators issue, list and revoke them; an account redeems one for credits."""

from dataclasses import dataclass
from datetime import datetime

from application.ports.clock import Clock
from application.ports.credit_admin import CreditAdmin
from application.ports.credits import CreditLedger
from application.ports.redemption_codes import RedemptionCodeStore
from domain.credits import grant_entry
from domain.errors import CodeNotRedeemable, NotFound
from domain.redemption import (
    IssuedCode,
    RedeemRefusal,
    RedemptionCode,
    check_issue,
    hash_code,
    issue_code,
    looks_like_code,
)


class IssueRedemptionCodes:
    """`count` codes, each worth `credits_micros` to up to `max_uses` accounts; the secrets are shown once."""

    def __init__(self, codes: RedemptionCodeStore, clock: Clock, pepper: bytes) -> None:
        self._codes = codes
        self._clock = clock
        self._pepper = pepper

    async def execute(
        self,
        credits_micros: int,
        *,
        max_uses: int = 1,
        count: int = 1,
        expires_at: datetime | None = None,
        created_by: str,
    ) -> list[IssuedCode]:
        now = self._clock.now()
        check_issue(credits_micros, max_uses, count, expires_at, now)
        issued = [issue_code(credits_micros, max_uses, created_by, now, expires_at, self._pepper) for _ in range(count)]
        await self._codes.add_many([i.code for i in issued])
        return issued


class ListRedemptionCodes:
    def __init__(self, codes: RedemptionCodeStore) -> None:
        self._codes = codes

    async def execute(self) -> list[RedemptionCode]:
        return await self._codes.list_all()


class RevokeRedemptionCode:
    def __init__(self, codes: RedemptionCodeStore, clock: Clock) -> None:
        self._codes = codes
        self._clock = clock

    async def execute(self, code_id: str) -> tuple[RedemptionCode, bool]:
        """The code after the call, and whether this call revoked it (False: it was already)."""
        changed = await self._codes.revoke(code_id, self._clock.now())
        code = await self._codes.get(code_id)
        if code is None:
            raise NotFound(f"no redemption code {code_id}")
        return code, changed


@dataclass(frozen=True, slots=True)
class Redeemed:
    credits_micros: int
    balance_micros: int


class RedeemCode:
    """One use of the code for this account, and its credits through the ledger.

    The use is counted (atomically, in the store) before the credits are granted, under a key per
    code and account. Should the grant fail after the use was counted, redeeming the same code
    again finds the redemption without its grant and completes it, once.
    """

    def __init__(
        self, codes: RedemptionCodeStore, ledger: CreditLedger, credits: CreditAdmin, clock: Clock, pepper: bytes
    ) -> None:
        self._codes = codes
        self._ledger = ledger
        self._credits = credits
        self._clock = clock
        self._pepper = pepper

    async def execute(self, account_id: str, text: str) -> Redeemed:
        if not looks_like_code(text):
            raise CodeNotRedeemable(RedeemRefusal.UNKNOWN)
        now = self._clock.now()
        outcome = await self._codes.redeem(hash_code(text, self._pepper), account_id, now)
        code = outcome.code
        if code is None:
            raise CodeNotRedeemable(RedeemRefusal.UNKNOWN)
        if outcome.refusal is RedeemRefusal.ALREADY_REDEEMED:
            if await self._credits.entry_by_key(code.grant_key(account_id)) is not None:
                raise CodeNotRedeemable(RedeemRefusal.ALREADY_REDEEMED)
            # Counted but never granted (the grant failed last time): finish it now.
        elif outcome.refusal is not None:
            raise CodeNotRedeemable(outcome.refusal)
        key = code.grant_key(account_id)
        entry = grant_entry(account_id, code.credits_micros, key, now, f"redeemed code {code.id}")
        if not await self._ledger.append(entry):
            raise CodeNotRedeemable(RedeemRefusal.ALREADY_REDEEMED)  # a concurrent twin of this very call
        return Redeemed(code.credits_micros, await self._ledger.balance(account_id))
