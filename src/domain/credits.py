"""The credits ledger: every change of balance is an entry, so balance = sum of entries.

A request reserves its worst case before it goes upstream and then either settles (returning
what it did not use, or taking what it overran) or is released (a failed call costs nothing).
Each entry carries an idempotency key; a store writes an entry at most once per key, so a retry
never bills twice.
"""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from domain.errors import InsufficientCredits, InvalidRequest
from domain.money import MICROS_PER_USD


class EntryKind(StrEnum):
    GRANT = "grant"
    RESERVE = "reserve"
    SETTLE = "settle"
    RELEASE = "release"
    DEDUCT = "deduct"  # an operator taking credits back; never below zero


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    account_id: str
    kind: EntryKind
    amount_micros: int  # signed: grants and releases add, reservations take
    idempotency_key: str
    created_at: datetime
    note: str = ""


def grant_entry(account_id: str, amount_micros: int, key: str, now: datetime, note: str = "") -> LedgerEntry:
    if amount_micros == 0:
        raise InvalidRequest("a grant of zero changes nothing", param="amount")
    return LedgerEntry(account_id, EntryKind.GRANT, amount_micros, key, now, note)


def covers(balance: int, amount_micros: int) -> bool:
    """A hold needs a positive balance at least as large as the worst case; stores check it atomically."""
    return balance > 0 and balance >= amount_micros


def credits_text(micros: int) -> str:
    """Credits as people read them ($1 = 1 credit): `1`, `0.25`, `0.000012`."""
    whole, fraction = divmod(abs(micros), MICROS_PER_USD)
    text = f"{whole}.{fraction:06d}".rstrip("0").rstrip(".")
    return f"-{text}" if micros < 0 else text


def insufficient(amount_micros: int, balance: int) -> InsufficientCredits:
    return InsufficientCredits(required=amount_micros, available=max(balance, 0))


def hold_entry(account_id: str, amount_micros: int, request_id: str, now: datetime) -> LedgerEntry:
    """The reservation a store is asked to take (it refuses when the balance does not cover it)."""
    return LedgerEntry(account_id, EntryKind.RESERVE, -amount_micros, f"{request_id}:reserve", now)


def reserve_entry(account_id: str, amount_micros: int, balance: int, request_id: str, now: datetime) -> LedgerEntry:
    """Refuses when the balance cannot cover the worst case (and when it is empty, always)."""
    if not covers(balance, amount_micros):
        raise insufficient(amount_micros, balance)
    return hold_entry(account_id, amount_micros, request_id, now)


def settle_entry(account_id: str, reserved: int, actual: int, request_id: str, now: datetime) -> LedgerEntry:
    """Gives back the unused part of a reservation, or takes the overrun."""
    return LedgerEntry(account_id, EntryKind.SETTLE, reserved - actual, f"{request_id}:settle", now)


def release_entry(account_id: str, reserved: int, request_id: str, now: datetime) -> LedgerEntry:
    # Shares the settle key on purpose: a request is closed exactly once, settled or released.
    return LedgerEntry(account_id, EntryKind.RELEASE, reserved, f"{request_id}:settle", now)


# An operator's grant or deduction above this is a typo, not a top-up: $1,000,000.
MAX_OPERATOR_MICROS = 1_000_000 * MICROS_PER_USD


def usd_text(micros: int) -> str:
    """Dollars with their unit, cents always, micro-dollars when present: `$12.50`, `$0.000012`."""
    whole, fraction = divmod(abs(micros), MICROS_PER_USD)
    digits = f"{fraction:06d}".rstrip("0").ljust(2, "0")
    return f"{'-' if micros < 0 else ''}${whole}.{digits}"


def operator_amount(amount_micros: int) -> int:
    """What an operator may grant or deduct in one go: more than nothing, less than absurd."""
    if amount_micros <= 0:
        raise InvalidRequest(f"AMOUNT must be more than $0, got {usd_text(amount_micros)}", param="amount")
    if amount_micros > MAX_OPERATOR_MICROS:
        raise InvalidRequest(
            f"AMOUNT {usd_text(amount_micros)} is more than the {usd_text(MAX_OPERATOR_MICROS)} allowed at once",
            param="amount",
        )
    return amount_micros


def deduct_entry(account_id: str, amount_micros: int, key: str, now: datetime, reason: str) -> LedgerEntry:
    """Takes `amount_micros` back; the store writes it only if the balance stays at or above zero."""
    if not reason.strip():
        raise InvalidRequest("a deduction needs a reason", param="reason")
    return LedgerEntry(account_id, EntryKind.DEDUCT, -operator_amount(amount_micros), key, now, reason)


class WriteOutcome(StrEnum):
    WRITTEN = "written"
    DUPLICATE = "duplicate"  # the idempotency key was written before: nothing changed
    SHORT = "short"  # the balance does not cover it: nothing written


def entry_differences(written: LedgerEntry, asked: LedgerEntry) -> list[str]:
    """How a request differs from the entry already written under its idempotency key."""
    differences = []
    if written.kind is not asked.kind:
        differences.append(f"kind {written.kind.value}, not {asked.kind.value}")
    if abs(written.amount_micros) != abs(asked.amount_micros):
        differences.append(f"amount {usd_text(abs(written.amount_micros))}, not {usd_text(abs(asked.amount_micros))}")
    if written.account_id != asked.account_id:
        differences.append(f"account {written.account_id}, not {asked.account_id}")
    return differences
