"""The HTTP status of each domain error: the same in every family, which words and shapes it its own way."""

from domain import errors as e

_STATUS: dict[type[e.DomainError], int] = {
    e.InvalidRequest: 400,
    e.TooManyKeys: 400,
    e.AuthenticationFailed: 401,
    e.InsufficientCredits: 402,
    e.SpendCapReached: 402,
    e.AccountBanned: 403,
    e.ModelNotAllowed: 403,
    e.ClientBlocked: 403,
    e.InputFlagged: 403,
    e.UnknownModel: 404,
    e.NotFound: 404,
    e.Conflict: 409,
    e.RateLimited: 429,
}


def status_of(exc: e.DomainError) -> int:
    return _STATUS.get(type(exc), 400)
