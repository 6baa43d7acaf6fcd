from litestar import Request

from application.principal import Principal
from application.use_cases.authenticate import Authenticate


def bearer(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


async def authenticate(request: Request, auth: Authenticate) -> Principal:
    return await auth.execute(bearer(request))


def client_ip(request: Request) -> str:
    client = request.client
    return client.host if client else ""
