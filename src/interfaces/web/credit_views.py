"""Packages, ledger entries and purchases as the credits page shows them."""

from fractions import Fraction
from typing import Any

from domain.credits import EntryKind, LedgerEntry, credits_text, usd_text
from domain.payments import Checkout, CheckoutStatus, CreditPackage
from interfaces.web.key_views import when

_KINDS = {
    EntryKind.GRANT: "Added",
    EntryKind.RESERVE: "Held for requests",
    EntryKind.SETTLE: "Settled",
    EntryKind.RELEASE: "Returned",
    EntryKind.DEDUCT: "Deducted",
}
_STATUS = {
    CheckoutStatus.OPEN: "awaiting payment",
    CheckoutStatus.PAID: "paid, credits added",
    CheckoutStatus.MISMATCHED: "held for review",
    CheckoutStatus.FAILED: "payment failed",
    CheckoutStatus.EXPIRED: "not completed",
}


def _percent(part: int, whole: int) -> str:
    share = Fraction(part * 100, whole)
    return f"{share.numerator}%" if share.denominator == 1 else f"{float(share):.1f}%"


def package_card(package: CreditPackage) -> dict[str, Any]:
    return {
        "id": package.id,
        "price": usd_text(package.price_micros),
        "credits": credits_text(package.credits_micros),
        "bonus": credits_text(package.bonus_micros) if package.bonus_micros else None,
        "bonus_share": _percent(package.bonus_micros, package.credits_micros) if package.credits_micros else None,
        "total": credits_text(package.total_micros),
    }


def _signed(micros: int) -> str:
    return ("+" if micros > 0 else "") + credits_text(micros)


def entry_row(entry: LedgerEntry) -> dict[str, Any]:
    return {
        "when": when(entry.created_at),
        "what": _KINDS.get(entry.kind, entry.kind.value),
        "amount": _signed(entry.amount_micros),
        "positive": entry.amount_micros > 0,
        "note": entry.note,
    }


def checkout_row(checkout: Checkout) -> dict[str, Any]:
    return {
        "when": when(checkout.created_at),
        "package": checkout.package_id,
        "price": usd_text(checkout.amount_cents * 10_000),
        "credits": credits_text(checkout.credits_micros),
        "status": _STATUS[checkout.status],
    }
