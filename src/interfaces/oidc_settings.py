"""The OpenID Connect providers people may sign in with: one from the environment, any number from
SLUICE_CONFIG. Client secrets come only from the environment, never from the file.

    SLUICE_OIDC_ISSUER=https://accounts.google.com     # one provider, id "sso"
    SLUICE_OIDC_CLIENT_ID=...  SLUICE_OIDC_CLIENT_SECRET=...  SLUICE_OIDC_NAME="Club Google"

    [[oidc.providers]]                                 # in SLUICE_CONFIG
    id = "slack"                                       # /login/oidc/slack
    name = "Slack"                                     # the button says "Sign in with Slack"
    issuer = "https://slack.com"
    client_id = "1234.5678"
    client_secret_env = "SLUICE_SLACK_SECRET"          # the variable that holds the secret
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from interfaces.settings import SettingsError

ENV_PROVIDER_ID = "sso"
DEFAULT_NAME = "Single sign-on"
_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
_SECRET_VARIABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_LOOPBACK = {"localhost", "127.0.0.1", "::1"}
_TABLE_KEYS = {"id", "name", "issuer", "client_id", "client_secret_env"}


@dataclass(frozen=True, slots=True)
class OidcClientSettings:
    id: str
    name: str
    issuer: str
    client_id: str
    client_secret: str = field(repr=False)  # never in a log line or a traceback's locals


def _issuer(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise SettingsError(f"{where} must be the provider's issuer URL, e.g. https://accounts.google.com")
    issuer = value.strip().rstrip("/")
    parts = urlsplit(issuer)
    local = parts.scheme == "http" and (parts.hostname or "") in _LOOPBACK
    if not (parts.scheme == "https" or local) or not parts.hostname or parts.query or parts.fragment:
        raise SettingsError(f"{where} must be an https URL (plain http only to localhost), got {value!r}")
    return issuer


def oidc_from_env(env: Mapping[str, str]) -> tuple[OidcClientSettings, ...]:
    names = ("SLUICE_OIDC_ISSUER", "SLUICE_OIDC_CLIENT_ID", "SLUICE_OIDC_CLIENT_SECRET")
    values = [(env.get(name) or "").strip() for name in names]
    if not any(values):
        return ()
    missing = [name for name, value in zip(names, values, strict=True) if not value]
    if missing:
        needs = "one provider needs issuer, client id and secret"
        raise SettingsError(f"{', '.join(missing)} must be set as well: {needs}")
    return (
        OidcClientSettings(
            id=ENV_PROVIDER_ID,
            name=(env.get("SLUICE_OIDC_NAME") or "").strip() or DEFAULT_NAME,
            issuer=_issuer(values[0], "SLUICE_OIDC_ISSUER"),
            client_id=values[1],
            client_secret=values[2],
        ),
    )


def oidc_from_config(data: Any, env: Mapping[str, str]) -> tuple[OidcClientSettings, ...]:
    """The `[[oidc.providers]]` tables of SLUICE_CONFIG, each secret read from the variable it names."""
    if data is None:
        return ()
    if not isinstance(data, dict) or set(data) - {"providers"}:
        raise SettingsError('SLUICE_CONFIG: oidc: the only key is `providers`, an array of tables ([[oidc.providers]])')
    tables = data.get("providers", [])
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        raise SettingsError("SLUICE_CONFIG: oidc.providers must be an array of tables ([[oidc.providers]])")
    return tuple(_table(table, n, env) for n, table in enumerate(tables))


def _table(table: dict[str, Any], index: int, env: Mapping[str, str]) -> OidcClientSettings:
    where = f"SLUICE_CONFIG: oidc.providers[{index}]"
    if "client_secret" in table:
        raise SettingsError(f"{where}: a client secret never goes in the file; name its variable in client_secret_env")
    unknown = sorted(set(table) - _TABLE_KEYS)
    if unknown:
        raise SettingsError(f"{where}: unknown key {unknown[0]!r} (known: {', '.join(sorted(_TABLE_KEYS))})")
    provider_id = table.get("id")
    if not isinstance(provider_id, str) or not _ID.match(provider_id):
        raise SettingsError(f"{where}: id must be 1-32 lower-case letters, digits, - or _ (it is in the URL)")
    client_id = table.get("client_id")
    if not isinstance(client_id, str) or not client_id.strip():
        raise SettingsError(f"{where}: client_id is required")
    variable = table.get("client_secret_env")
    if not isinstance(variable, str) or not _SECRET_VARIABLE.match(variable):
        raise SettingsError(f"{where}: client_secret_env must name the environment variable holding the secret")
    secret = (env.get(variable) or "").strip()
    if not secret:
        raise SettingsError(f"{where}: {variable} (its client_secret_env) is not set in the environment")
    name = table.get("name", provider_id)
    if not isinstance(name, str) or not name.strip():
        raise SettingsError(f"{where}: name must be a non-empty string")
    return OidcClientSettings(
        id=provider_id,
        name=name.strip(),
        issuer=_issuer(table.get("issuer"), f"{where}: issuer"),
        client_id=client_id.strip(),
        client_secret=secret,
    )


def oidc_clients(
    from_env: tuple[OidcClientSettings, ...], from_config: tuple[OidcClientSettings, ...]
) -> tuple[OidcClientSettings, ...]:
    """The environment's provider first, then the file's, in its order; ids must differ."""
    clients = from_env + from_config
    seen: set[str] = set()
    for client in clients:
        if client.id in seen:
            where = "SLUICE_OIDC_ISSUER's provider" if client.id == ENV_PROVIDER_ID else "SLUICE_CONFIG"
            raise SettingsError(f"two OpenID Connect providers have the id {client.id!r} ({where}); ids must differ")
        seen.add(client.id)
    return clients
