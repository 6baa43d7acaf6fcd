import argparse
from datetime import UTC, datetime, timedelta

from application.use_cases.admin.audited_keys import AuditedRevokeKey
from application.use_cases.api_keys import IssueApiKey, ListApiKeys
from domain.errors import InvalidRequest
from domain.keys import ApiKey
from interfaces.cli.actor import cli_actor
from interfaces.cli.context import container, say
from interfaces.cli.output import print_json, print_rows, when
from interfaces.settings import Settings


def key_status(key: ApiKey, now: datetime | None = None) -> str:
    if key.revoked_at:
        return "revoked"
    return "active" if key.is_active(now or datetime.now(UTC)) else "expired"


def key_row(key: ApiKey) -> tuple[str, ...]:
    models = ",".join(sorted(key.allowed_models)) if key.allowed_models is not None else "*"
    return (key.id, key.name, f"{key.prefix}...", key_status(key), when(key.created_at), when(key.expires_at), models)


def key_json(key: ApiKey) -> dict[str, object]:
    return {
        "id": key.id,
        "name": key.name,
        "prefix": key.prefix,
        "status": key_status(key),
        "created": when(key.created_at),
        "expires": key.expires_at.isoformat(timespec="seconds") if key.expires_at else None,
        "revoked": key.revoked_at.isoformat(timespec="seconds") if key.revoked_at else None,
        "models": sorted(key.allowed_models) if key.allowed_models is not None else None,
    }


async def keys_create(settings: Settings, args: argparse.Namespace) -> int:
    if args.expires_days is not None and args.expires_days < 1:
        raise InvalidRequest(f"--expires-days must be at least 1, got {args.expires_days}", param="expires_days")
    expires = datetime.now(UTC) + timedelta(days=args.expires_days) if args.expires_days else None
    models = frozenset(m.strip() for m in args.models.split(",") if m.strip()) if args.models else None
    async with container(settings) as c:
        issued = await (await c.get(IssueApiKey)).execute(
            args.email, args.name, expires_at=expires, allowed_models=models
        )
    say(f"key {issued.key.id} ({issued.key.name}) created; it is shown this once, store it now")
    print(issued.secret)
    return 0


async def keys_list(settings: Settings, args: argparse.Namespace) -> int:
    async with container(settings) as c:
        keys = await (await c.get(ListApiKeys)).execute(args.email)
    if args.json:
        print_json([key_json(key) for key in keys])
    else:
        print_rows(("id", "name", "prefix", "status", "created", "expires", "models"), map(key_row, keys))
    return 0


async def keys_revoke(settings: Settings, args: argparse.Namespace) -> int:
    async with container(settings) as c:
        key, changed = await (await c.get(AuditedRevokeKey)).execute(cli_actor(), args.key_id, args.reason)
    if changed:
        say(f"key {key.id} ({key.name}) revoked; gateways stop accepting it within {settings.key_cache_seconds:g} s")
    else:
        say(f"key {key.id} ({key.name}) was already revoked at {when(key.revoked_at)}; nothing changed")
    return 0
