"""Reading who is calling from a request: the parts every API family shares."""

from litestar import Request

# What a client says about itself, for the operator's block list (the proxy spec bans coding agents).
_SELF_DESCRIPTIONS = ("user-agent", "referer", "http-referer", "x-title")


def bearer(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


def client_ip(request: Request) -> str:
    client = request.client
    return client.host if client else ""


def client_marks(request: Request) -> tuple[str, ...]:
    headers = request.headers
    return tuple(value for name in _SELF_DESCRIPTIONS if (value := headers.get(name)))
