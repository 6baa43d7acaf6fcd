"""Rule violations the domain can name. Interfaces map each to a status and an error body."""

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from domain.rate_policy import Decision


class DomainError(Exception):
    """Base of every rule violation; `code` is a stable machine-readable name."""

    code = "domain_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidRequest(DomainError):
    code = "invalid_request"

    def __init__(self, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.param = param


class AuthenticationFailed(DomainError):
    code = "invalid_api_key"


class AccountBanned(DomainError):
    code = "account_banned"


class ModelNotAllowed(DomainError):
    code = "model_not_allowed"


class UnknownModel(DomainError):
    code = "model_not_found"


class NotFound(DomainError):
    code = "not_found"


class Conflict(DomainError):
    code = "conflict"


class TooManyKeys(DomainError):
    code = "too_many_keys"


class InsufficientCredits(DomainError):
    code = "insufficient_credits"

    def __init__(self, message: str, required: int, available: int) -> None:
        super().__init__(message)
        self.required = required
        self.available = available


class SpendCapReached(DomainError):
    code = "spend_cap_reached"


class RateLimited(DomainError):
    code = "rate_limit_exceeded"

    def __init__(self, message: str, bucket: str, decision: "Decision") -> None:
        super().__init__(message)
        self.bucket = bucket
        self.decision = decision


class ClientBlocked(DomainError):
    """The request came from a client the operator turned away (`[policy] block_clients`)."""

    code = "client_blocked"

    def __init__(self, entry: str, message: str | None = None) -> None:
        super().__init__(message or f"This service may not be used from this client ({entry}).")
        self.entry = entry  # the configured entry that matched, as configured
