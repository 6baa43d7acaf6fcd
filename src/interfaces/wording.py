"""Plain English for the domain's errors: the OpenAI and Gemini families, the CLI and logs say it so.

A family with its own fixed wording (the credits API's "Insufficient credits. Required: 1,
Available: 0") words those errors itself and falls back to this for the rest.
"""

import math
from functools import singledispatch

from domain import errors as e
from domain.credits import credits_text
from domain.money import micros_to_usd
from domain.plans import interval_label


@singledispatch
def describe(error: e.DomainError) -> str:
    return error.detail or error.code.replace("_", " ")


@describe.register
def _(error: e.AuthenticationFailed) -> str:
    return "Invalid API key provided."


@describe.register
def _(error: e.AccountBanned) -> str:
    return "API access is disabled for this account."


@describe.register
def _(error: e.ModelNotAllowed) -> str:
    return f"The model '{error.model}' is not available on your plan."


@describe.register
def _(error: e.UnknownModel) -> str:
    return f"Model '{error.model}' not found"


@describe.register
def _(error: e.TooManyKeys) -> str:
    return f"an account may hold at most {error.limit} active keys; revoke one first"


@describe.register
def _(error: e.InsufficientCredits) -> str:
    if error.detail:
        return error.detail
    return f"Insufficient credits. Required: {credits_text(error.required)}, Available: {credits_text(error.available)}"


@describe.register
def _(error: e.SpendCapReached) -> str:
    return f"The {error.period.adjective} spend cap of ${micros_to_usd(error.limit_micros):.2f} is reached."


@describe.register
def _(error: e.RateLimited) -> str:
    b = error.breached
    return (
        f"Rate limit exceeded: {b.limit} requests per {interval_label(b.window_seconds)} ({b.bucket}). "
        f"Retry in {math.ceil(error.decision.retry_after)} s."
    )


@describe.register
def _(error: e.ClientBlocked) -> str:
    return (
        f"This gateway does not serve requests from {error.entry}: its operator does not allow that client "
        "(matched in User-Agent, Referer, HTTP-Referer or X-Title)."
    )


@describe.register
def _(error: e.InputFlagged) -> str:
    return "Your input was flagged by moderation: " + ", ".join(error.categories) + "."


@describe.register
def _(error: e.SignInFailed) -> str:
    return "Wrong email or password."


@describe.register
def _(error: e.SignUpClosed) -> str:
    return "Sign-up is closed on this gateway: its operator creates accounts."


@describe.register
def _(error: e.EmailDomainNotAllowed) -> str:
    return f"Sign-up is open only to addresses at {', '.join(error.allowed)}; {error.domain} is not one of them."


@describe.register
def _(error: e.PasswordRejected) -> str:
    return f"A password needs {error.min_length} to {error.max_length} characters."


@describe.register
def _(error: e.TooManyAttempts) -> str:
    minutes = max(1, math.ceil(error.retry_after / 60))
    where = "for this email address" if error.subject == "email" else "from your network address"
    return f"Too many sign-in attempts {where}. Try again in {minutes} minute{'s' if minutes > 1 else ''}."
