"""Credit leases: the share of a prepaid balance that one gateway process spends from in memory.

A lease is taken from the balance by one RESERVE entry and closed by one SETTLE entry keyed
`<lease id>:close`, whoever closes it: its own process (with what it knows it spent) or, once its
expiry has passed unrenewed, any other process (with what the usage records it paid for show as
spent). The shared key makes the close happen once.
"""

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Lease:
    id: str
    account_id: str
    amount_micros: int  # what the lease took from the balance
    owner: str  # the process spending from it: host, pid and a random tag
    opened_at: datetime
    expires_at: datetime  # renewed while the owner lives; past it, anyone may return the lease

    def expired(self, now: datetime) -> bool:
        return now >= self.expires_at


@dataclass(frozen=True, slots=True)
class LeaseStanding:
    """An open lease as an operator sees it."""

    lease: Lease
    email: str
    recorded_spent_micros: int  # charged by the usage records written so far that this lease paid for


def close_key(lease_id: str) -> str:
    return f"{lease_id}:close"


def returned_micros(lease: Lease, spent_micros: int) -> int:
    """What closing gives back: the lease minus what it paid for (negative when it overran)."""
    return lease.amount_micros - spent_micros
