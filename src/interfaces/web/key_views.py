"""Keys as the keys page and /api/keys show them (never the secret, except once at creation)."""

from datetime import datetime
from typing import Any

from application.use_cases.key_listing import ListedKey
from domain.keys import ApiKey, IssuedKey


def when(moment: datetime | None, never: str = "never") -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else never


def key_row(listed: ListedKey) -> dict[str, Any]:
    key = listed.key
    return {
        "id": key.id,
        "name": key.name,
        "prefix": key.prefix,
        "created": when(key.created_at),
        "last_used": when(listed.last_used),
        "expires": when(key.expires_at),
        "models": ", ".join(sorted(key.allowed_models)) if key.allowed_models else "the plan's",
        "active": listed.active,
        "status": "active" if listed.active else ("revoked" if key.revoked_at else "expired"),
    }


def key_json(key: ApiKey) -> dict[str, Any]:
    return {
        "id": key.id,
        "name": key.name,
        "prefix": key.prefix,
        "created": key.created_at.isoformat(),
        "expires": key.expires_at.isoformat() if key.expires_at else None,
        "models": sorted(key.allowed_models) if key.allowed_models else None,
        "revoked": key.revoked_at.isoformat() if key.revoked_at else None,
    }


def issued_json(issued: IssuedKey) -> dict[str, Any]:
    return {**key_json(issued.key), "key": issued.secret}
