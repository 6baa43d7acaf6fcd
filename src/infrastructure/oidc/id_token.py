"""Verifying an ID token: the provider's signature, then who it is from, for and until when, and for which request.

OpenID Connect Core 3.1.3.7. Every failure is one refusal (TOKEN_INVALID); the log says which check.
"""

import hmac
import logging
from typing import Any

from joserfc import jwt
from joserfc.errors import BadSignatureError, InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet

from domain.errors import SignInRefused
from domain.identities import Refusal

log = logging.getLogger("sluice.oidc")

LEEWAY_SECONDS = 60  # clock skew between the provider and us


class KeyMismatch(Exception):
    """No key of the set (as we hold it) verifies the token: it names another key id, or it names
    none and the one we hold does not fit. Either the provider rotated its keys or the token is forged."""


def verify_id_token(
    id_token: str,
    keys: KeySet,
    *,
    issuer: str,
    client_id: str,
    nonce: str,
    algorithms: tuple[str, ...],
    now: int,
) -> dict[str, Any]:
    try:
        token = jwt.decode(id_token, keys, algorithms=list(algorithms))
    except (InvalidKeyIdError, BadSignatureError):
        raise KeyMismatch() from None
    except (JoseError, ValueError, TypeError, KeyError) as exc:
        return _refuse(f"signature: {type(exc).__name__}")
    claims = token.claims
    registry = jwt.JWTClaimsRegistry(
        now=now,
        leeway=LEEWAY_SECONDS,
        iss={"essential": True, "value": issuer},
        aud={"essential": True, "value": client_id},
        sub={"essential": True},
        exp={"essential": True},
        iat={"essential": True},
    )
    try:
        registry.validate(claims)
    except JoseError as exc:
        return _refuse(f"claims: {exc}")
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    azp = claims.get("azp")
    # 3.1.3.7 (4, 5): with other audiences beside us, the token must say it was issued to us.
    if (len(audiences) > 1 or azp is not None) and azp != client_id:
        return _refuse(f"azp {azp!r}")
    sent = claims.get("nonce")
    if not isinstance(sent, str) or not hmac.compare_digest(sent.encode(), nonce.encode()):
        return _refuse("nonce")
    if len(claims["sub"]) > 255:
        return _refuse("sub longer than 255 characters")
    return claims


def _refuse(why: str) -> Any:
    log.warning("ID token refused (%s)", why)
    raise SignInRefused(Refusal.TOKEN_INVALID)
