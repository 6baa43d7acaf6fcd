from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from domain.redemption import RedeemRefusal, RedemptionCode


@dataclass(frozen=True, slots=True)
class RedeemOutcome:
    code: RedemptionCode | None  # the code after the attempt (None when no code has that hash)
    refusal: RedeemRefusal | None  # None: this attempt counted a use and recorded the redemption


class RedemptionCodeStore(Protocol):
    async def add_many(self, codes: Sequence[RedemptionCode]) -> None: ...

    async def get(self, code_id: str) -> RedemptionCode | None: ...

    async def list_all(self) -> list[RedemptionCode]:
        """Every code, newest first."""
        ...

    async def revoke(self, code_id: str, now: datetime) -> bool:
        """False when the code was revoked before (or does not exist)."""
        ...

    async def redeem(self, code_hash: str, account_id: str, now: datetime) -> RedeemOutcome:
        """Counts one use and records the account's redemption, atomically and only if the code is
        active and the account has not redeemed it; concurrent calls never exceed `max_uses`."""
        ...
