"""ID token checks (OpenID Connect Core 3.1.3.7) on tokens signed here with keys of our own."""

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet, OctKey, RSAKey

from domain.errors import SignInRefused
from domain.identities import Refusal
from infrastructure.oidc.id_token import LEEWAY_SECONDS, KeyMismatch, verify_id_token

ISSUER = "https://id.example.org"
CLIENT = "sluice"
NONCE = "n-0S6_WzA2Mj"
NOW = 1_800_000_000
KEY = RSAKey.generate_key(2048, {"kid": "k1"})
KEYS = KeySet([RSAKey.import_key(KEY.as_dict(private=False))])


def _claims(**changes: object) -> dict[str, object]:
    claims: dict[str, object] = {
        "iss": ISSUER,
        "sub": "248289761001",
        "aud": CLIENT,
        "exp": NOW + 300,
        "iat": NOW,
        "nonce": NONCE,
        "email": "ada@example.org",
    }
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def _token(claims: dict[str, object], key=KEY, alg: str = "RS256", kid: str | None = "k1") -> str:  # type: ignore[no-untyped-def]
    header = {"alg": alg, **({"kid": kid} if kid else {})}
    return jwt.encode(header, claims, key, algorithms=[alg])


def _verify(token: str, keys: KeySet = KEYS, now: int = NOW) -> dict[str, object]:
    return verify_id_token(token, keys, issuer=ISSUER, client_id=CLIENT, nonce=NONCE, algorithms=("RS256",), now=now)


def _refused(token: str, **kwargs: object) -> None:
    with pytest.raises(SignInRefused) as caught:
        _verify(token, **kwargs)  # type: ignore[arg-type]
    assert caught.value.reason is Refusal.TOKEN_INVALID


def test_a_good_token_gives_its_claims() -> None:
    assert _verify(_token(_claims()))["sub"] == "248289761001"
    assert _verify(_token(_claims(aud=[CLIENT])))["sub"] == "248289761001"
    assert _verify(_token(_claims(aud=[CLIENT, "other"], azp=CLIENT)))["sub"] == "248289761001"


@pytest.mark.parametrize(
    "changes",
    [
        {"iss": "https://id.example.org/"},
        {"iss": "https://evil.example"},
        {"iss": None},
        {"aud": "another-app"},
        {"aud": ["another-app"]},
        {"aud": None},
        {"aud": [CLIENT, "other"]},  # several audiences and no azp
        {"aud": [CLIENT, "other"], "azp": "other"},
        {"azp": "other"},
        {"exp": NOW - LEEWAY_SECONDS - 1},
        {"exp": None},
        {"iat": None},
        {"iat": NOW + LEEWAY_SECONDS + 60},
        {"nonce": "another"},
        {"nonce": None},
        {"sub": None},
        {"sub": "x" * 256},
    ],
    ids=repr,
)
def test_each_claim_check_refuses(changes: dict[str, object]) -> None:
    _refused(_token(_claims(**changes)))


def test_clock_skew_within_the_leeway_passes() -> None:
    assert _verify(_token(_claims(exp=NOW - LEEWAY_SECONDS + 5)))


def test_only_the_providers_asymmetric_algorithms_are_taken() -> None:
    secret = OctKey.import_key(b"the-client-secret-used-as-an-hmac-key!!")
    _refused(_token(_claims(), key=secret, alg="HS256", kid=None), keys=KeySet([secret]))
    payload = _token(_claims()).split(".")[1]
    _refused(f"eyJhbGciOiJub25lIn0.{payload}.")


def test_a_token_no_held_key_verifies_is_a_key_mismatch_for_the_caller_to_refetch() -> None:
    other = RSAKey.generate_key(2048, {"kid": "k2"})
    with pytest.raises(KeyMismatch):
        _verify(_token(_claims(), key=other, kid="k2"))  # a key id we do not hold
    with pytest.raises(KeyMismatch):
        _verify(_token(_claims(), key=other, kid=None))  # no key id, and ours does not fit
    with pytest.raises(KeyMismatch):
        _verify(_token(_claims(), key=other, kid="k1"))  # our key id, a signature it does not make


def test_garbage_is_refused() -> None:
    for junk in ("", "a.b", "a.b.c", "not a token at all"):
        _refused(junk)
