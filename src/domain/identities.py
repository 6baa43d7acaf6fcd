"""Sign-in through an OpenID Connect provider: who the provider says signed in, and why it was refused."""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


@dataclass(frozen=True, slots=True)
class ProviderIdentity:
    """What a verified ID token says: `issuer` and `subject` name the person for good, the email may change."""

    issuer: str
    subject: str
    email: str | None
    email_verified: bool


@dataclass(frozen=True, slots=True)
class IdentityLink:
    """An identity at a provider that signs in to an account (one account may have several)."""

    issuer: str
    subject: str
    account_id: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class PendingSignIn:
    """What the gateway keeps between sending a browser to the provider and its coming back.

    `state` binds the callback to this browser, `nonce` the ID token to this request, and
    `code_verifier` (PKCE) the authorization code to this gateway.
    """

    provider_id: str
    state: str
    nonce: str
    code_verifier: str
    redirect_uri: str
    next_path: str
    expires_at: datetime


class Refusal(StrEnum):
    UNKNOWN_PROVIDER = "unknown_provider"
    EXPIRED = "expired"  # no sign-in is pending for this browser (never started, timed out or used)
    STATE_MISMATCH = "state_mismatch"
    PROVIDER_ERROR = "provider_error"  # the provider answered the callback with an error (the person declined)
    PROVIDER_UNAVAILABLE = "provider_unavailable"
    CODE_REJECTED = "code_rejected"  # the token endpoint refused the code (replayed, expired, wrong verifier)
    TOKEN_INVALID = "token_invalid"  # signature, issuer, audience, expiry or nonce of the ID token
    EMAIL_MISSING = "email_missing"
    EMAIL_UNVERIFIED = "email_unverified"


def local_path(candidate: str | None, default: str = "/dashboard") -> str:
    """`candidate` if it is a path on this site, else `default`: a sign-in never redirects elsewhere."""
    if not candidate or not candidate.startswith("/") or candidate.startswith(("//", "/\\")):
        return default
    if any(ch in candidate for ch in "\\\r\n\t") or len(candidate) > 2000:
        return default
    return candidate
