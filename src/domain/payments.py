"""Buying credits: the packages on sale, the checkouts started, and the payment events that complete them.

Credits are granted only for a payment event the payment port has verified, for the amount and
currency recorded when the checkout was created (never what a browser says), and once per
checkout however often the event is delivered: the grant's idempotency key is the checkout's.
"""

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from domain.errors import InvalidRequest, NotFound
from domain.money import MICROS_PER_USD, usd_to_micros

MICROS_PER_CENT = MICROS_PER_USD // 100
CURRENCY = "usd"  # credits are priced in dollars ($1 = 1 credit), so packages are sold in dollars


@dataclass(frozen=True, slots=True)
class CreditPackage:
    id: str
    price_micros: int  # what the buyer pays, in whole cents
    credits_micros: int  # credits bought ($1 = 1 credit)
    bonus_micros: int = 0  # credits given on top

    def __post_init__(self) -> None:
        if not self.id.strip() or len(self.id) > 64:
            raise InvalidRequest("a package needs an id of 1 to 64 characters", param="id")
        if self.price_micros <= 0 or self.price_micros % MICROS_PER_CENT:
            raise InvalidRequest(f"package {self.id}: the price must be a positive number of cents", param="usd")
        if self.credits_micros < 0 or self.bonus_micros < 0 or self.total_micros == 0:
            raise InvalidRequest(
                f"package {self.id}: credits and bonus cannot be negative or both zero", param="credits"
            )

    @property
    def amount_cents(self) -> int:
        return self.price_micros // MICROS_PER_CENT

    @property
    def total_micros(self) -> int:
        return self.credits_micros + self.bonus_micros


# The credits spec's packages: $5 = 5, $10 = 10, $25 = 25 + 2.5, $50 = 50 + 7.5, $100 = 100 + 20.
BUILTIN_PACKAGES = (
    CreditPackage("p5", usd_to_micros("5"), usd_to_micros("5")),
    CreditPackage("p10", usd_to_micros("10"), usd_to_micros("10")),
    CreditPackage("p25", usd_to_micros("25"), usd_to_micros("25"), usd_to_micros("2.5")),
    CreditPackage("p50", usd_to_micros("50"), usd_to_micros("50"), usd_to_micros("7.5")),
    CreditPackage("p100", usd_to_micros("100"), usd_to_micros("100"), usd_to_micros("20")),
)


@dataclass(frozen=True, slots=True)
class CreditPackages:
    """The packages on sale, in the order they are offered."""

    items: tuple[CreditPackage, ...] = BUILTIN_PACKAGES

    def __post_init__(self) -> None:
        ids = [p.id for p in self.items]
        if len(set(ids)) != len(ids):
            raise InvalidRequest("each credit package needs its own id", param="id")

    def get(self, package_id: str) -> CreditPackage:
        for package in self.items:
            if package.id == package_id:
                return package
        raise NotFound(f"no credit package {package_id!r}")


class CheckoutStatus(StrEnum):
    OPEN = "open"  # created; the buyer may still pay
    PAID = "paid"  # a verified event said so, and the credits were granted
    MISMATCHED = "mismatched"  # a verified event's amount or currency differs from the record: nothing granted
    FAILED = "failed"  # a delayed payment method failed
    EXPIRED = "expired"  # the buyer never paid


@dataclass(frozen=True, slots=True)
class Checkout:
    """A checkout as recorded when it was created: what was sold, to whom, for how much."""

    session_id: str
    account_id: str
    package_id: str
    amount_cents: int
    currency: str
    credits_micros: int
    status: CheckoutStatus
    created_at: datetime
    completed_at: datetime | None = None

    @property
    def grant_key(self) -> str:
        # One key per checkout: two different events for one session can never grant twice.
        return f"checkout:{self.session_id}"

    def closed(self, status: CheckoutStatus, now: datetime) -> "Checkout":
        return replace(self, status=status, completed_at=now)


def new_checkout(session_id: str, account_id: str, package: CreditPackage, now: datetime) -> Checkout:
    return Checkout(
        session_id=session_id,
        account_id=account_id,
        package_id=package.id,
        amount_cents=package.amount_cents,
        currency=CURRENCY,
        credits_micros=package.total_micros,
        status=CheckoutStatus.OPEN,
        created_at=now,
    )


@dataclass(frozen=True, slots=True)
class CheckoutRequest:
    account_id: str
    package: CreditPackage
    success_url: str
    cancel_url: str


@dataclass(frozen=True, slots=True)
class CheckoutSession:
    """What the payment provider made: its id, and where to send the buyer."""

    session_id: str
    redirect_url: str


class PaymentEventKind(StrEnum):
    COMPLETED = "completed"  # the buyer finished the checkout (paid, or a delayed method still pending)
    ASYNC_SUCCEEDED = "async_succeeded"  # a delayed payment method went through
    ASYNC_FAILED = "async_failed"
    EXPIRED = "expired"
    OTHER = "other"  # an event this gateway does not act on


@dataclass(frozen=True, slots=True)
class PaymentEvent:
    """A verified event about a checkout, with the amounts the provider states."""

    event_id: str
    kind: PaymentEventKind
    session_id: str = ""
    paid: bool = False
    amount_cents: int | None = None
    currency: str = ""
    account_ref: str | None = None  # the account id the checkout was created for, as the provider echoes it


class RefusalReason(StrEnum):
    BAD_SIGNATURE = "bad_signature"  # missing, malformed or not made with our secret
    STALE = "stale"  # signed, but too long ago: a replay
    MALFORMED = "malformed"  # signed, but not an event
    UNCONFIGURED = "unconfigured"  # no webhook secret: nothing can be verified


@dataclass(frozen=True, slots=True)
class WebhookRefusal:
    reason: RefusalReason


def mismatches(checkout: Checkout, event: PaymentEvent) -> list[str]:
    """How a paid event differs from the recorded checkout; empty when it is the payment for it."""
    found = []
    if event.amount_cents != checkout.amount_cents:
        found.append(f"amount {event.amount_cents} cents, recorded {checkout.amount_cents}")
    if event.currency.lower() != checkout.currency:
        found.append(f"currency {event.currency or '-'}, recorded {checkout.currency}")
    if event.account_ref is not None and event.account_ref != checkout.account_id:
        found.append(f"account {event.account_ref}, recorded {checkout.account_id}")
    return found
