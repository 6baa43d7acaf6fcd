from dataclasses import dataclass

from domain.accounts import Account
from domain.keys import ApiKey
from domain.plans import Plan


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the key, its account and the plan in force."""

    key: ApiKey
    account: Account
    plan: Plan
