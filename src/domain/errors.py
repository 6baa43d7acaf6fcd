"""Rule violations the domain can name, as data.

An error says what was violated (the bucket and its limit, the amounts required and available, the
model) and nothing about how to say it: each API family words it in its own shape, and the CLI and
logs use the plain wording in `interfaces/wording.py`. `detail` is for the few errors whose
specifics are free text by nature (which field of a body is wrong, and how).
"""

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from domain.plans import Period, Subject
    from domain.rate_policy import Decision


class DomainError(Exception):
    """Base of every rule violation; `code` is a stable machine-readable name."""

    code = "domain_error"

    def __init__(self, detail: str = "") -> None:
        super().__init__(detail)
        self.detail = detail

    def __str__(self) -> str:
        return self.detail or self.code


class InvalidRequest(DomainError):
    """`detail` says what is wrong with `param` (or with the body when there is no param)."""

    code = "invalid_request"

    def __init__(self, detail: str, param: str | None = None) -> None:
        super().__init__(detail)
        self.param = param


class AuthenticationFailed(DomainError):
    code = "invalid_api_key"

    def __init__(self, missing: bool = False) -> None:
        super().__init__()
        self.missing = missing  # no key was sent at all (as opposed to a wrong, revoked or expired one)


class AccountBanned(DomainError):
    code = "account_banned"


class ModelNotAllowed(DomainError):
    code = "model_not_allowed"

    def __init__(self, model: str) -> None:
        super().__init__()
        self.model = model


class UnknownModel(DomainError):
    code = "model_not_found"

    def __init__(self, model: str) -> None:
        super().__init__()
        self.model = model


class NotFound(DomainError):
    code = "not_found"


class Conflict(DomainError):
    code = "conflict"


class TooManyKeys(DomainError):
    code = "too_many_keys"

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit


class InsufficientCredits(DomainError):
    """Micro-dollars: what the request needed held, and what the balance had (never below zero)."""

    code = "insufficient_credits"

    def __init__(self, required: int, available: int, detail: str = "") -> None:
        super().__init__(detail)
        self.required = required
        self.available = available


class SpendCapReached(DomainError):
    code = "spend_cap_reached"

    def __init__(self, period: "Period", limit_micros: int) -> None:
        super().__init__()
        self.period = period
        self.limit_micros = limit_micros


@dataclass(frozen=True, slots=True)
class LimitBreached:
    """The rate policy that refused a request, as a family needs it to explain the refusal."""

    bucket: str
    limit: int
    window_seconds: float
    subject: "Subject"


class RateLimited(DomainError):
    code = "rate_limit_exceeded"

    def __init__(self, breached: LimitBreached, decision: "Decision") -> None:
        super().__init__()
        self.breached = breached
        self.decision = decision

    @property
    def bucket(self) -> str:
        return self.breached.bucket


class ClientBlocked(DomainError):
    """The calling client matched an entry of the operator's block list."""

    code = "client_blocked"

    def __init__(self, entry: str) -> None:
        super().__init__()
        self.entry = entry


class InputFlagged(DomainError):
    """The plan moderates chat input, and the moderation model flagged it."""

    code = "input_flagged"

    def __init__(self, categories: tuple[str, ...]) -> None:
        super().__init__()
        self.categories = categories


class SignInFailed(DomainError):
    """Wrong email or password: one error for both, so an answer never tells which accounts exist."""

    code = "sign_in_failed"


class SignUpClosed(DomainError):
    """The operator creates accounts (`SLUICE_SIGNUP=closed`)."""

    code = "sign_up_closed"


class EmailDomainNotAllowed(DomainError):
    code = "email_domain_not_allowed"

    def __init__(self, domain: str, allowed: tuple[str, ...]) -> None:
        super().__init__()
        self.domain = domain
        self.allowed = allowed


class PasswordRejected(DomainError):
    """A new password outside the policy's lengths."""

    code = "password_rejected"

    def __init__(self, min_length: int, max_length: int) -> None:
        super().__init__()
        self.min_length = min_length
        self.max_length = max_length


class TooManyAttempts(DomainError):
    """Sign-in (or sign-up) attempts over a limit, per email or per client IP (`subject`)."""

    code = "too_many_attempts"

    def __init__(self, subject: str, retry_after: float) -> None:
        super().__init__()
        self.subject = subject
        self.retry_after = retry_after
