"""Accounts: a person or a service that owns keys, a plan and a balance."""

import re
import secrets
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from domain.errors import InvalidRequest
from domain.plans import RatePolicy, SpendCapOverride

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")


class Role(StrEnum):
    USER = "user"
    ADMIN = "admin"


class AccountStatus(StrEnum):
    ACTIVE = "active"
    BANNED = "banned"


@dataclass(frozen=True, slots=True)
class Account:
    id: str
    email: str
    role: Role
    status: AccountStatus
    plan: str
    created_at: datetime
    # Set by the operator (`sluice accounts limits`); each takes precedence over the plan's bucket
    # of its name (see `domain.plans.effective_policies`). Empty: the plan's limits as they are.
    rate_limits: tuple[RatePolicy, ...] = ()
    # Set by an admin (`sluice accounts spend-cap`, the console): each replaces the plan's cap of
    # its period (see `domain.plans.effective_spend_caps`). Empty: the plan's caps as they are.
    spend_caps: tuple[SpendCapOverride, ...] = ()

    @property
    def is_banned(self) -> bool:
        return self.status is AccountStatus.BANNED

    def banned(self) -> "Account":
        return replace(self, status=AccountStatus.BANNED)

    def unbanned(self) -> "Account":
        return replace(self, status=AccountStatus.ACTIVE)

    def with_rate_limits(self, overrides: tuple[RatePolicy, ...]) -> "Account":
        names = [policy.name for policy in overrides]
        if len(set(names)) != len(names):
            raise InvalidRequest("each rate bucket can be overridden once", param="rate_limits")
        return replace(self, rate_limits=tuple(overrides))

    def with_spend_caps(self, overrides: tuple[SpendCapOverride, ...]) -> "Account":
        periods = [o.period for o in overrides]
        if len(set(periods)) != len(periods):
            raise InvalidRequest("each period's spend cap can be overridden once", param="spend_caps")
        return replace(self, spend_caps=tuple(overrides))

    def on_plan(self, plan: str) -> "Account":
        return replace(self, plan=plan)


def normalize_email(email: str) -> str:
    cleaned = email.strip().lower()
    if not _EMAIL.match(cleaned) or len(cleaned) > 320:
        raise InvalidRequest(f"not an email address: {email!r}", param="email")
    return cleaned


def new_account(email: str, plan: str, now: datetime, *, admin: bool = False) -> Account:
    return Account(
        id="acct_" + secrets.token_hex(8),
        email=normalize_email(email),
        role=Role.ADMIN if admin else Role.USER,
        status=AccountStatus.ACTIVE,
        plan=plan,
        created_at=now,
    )
