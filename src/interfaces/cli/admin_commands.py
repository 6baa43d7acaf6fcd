"""The admin subcommands: each builds the runtime, runs one use case, closes everything."""

import argparse
import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

from dishka import AsyncContainer

from application.plan_book import PlanBook
from application.ports.credits import CreditLedger
from application.use_cases.accounts import CreateAccount, FindAccount, SetAccountBanned
from application.use_cases.api_keys import IssueApiKey, ListApiKeys, RevokeApiKey
from application.use_cases.credits import GrantCredits
from application.use_cases.leases import ListLeases, ReconcileLeases
from domain.credits import credits_text
from domain.errors import InvalidRequest
from domain.money import micros_to_usd, usd_to_micros
from interfaces.container import build_container
from interfaces.migrations import run_migrations
from interfaces.runtime import build_runtime
from interfaces.settings import Settings


@asynccontextmanager
async def _container(settings: Settings) -> AsyncIterator[AsyncContainer]:
    if os.environ.get("SLUICE_AUTO_MIGRATE", "1") != "0":
        await run_migrations(settings.database_url)
    runtime = build_runtime(settings)
    container = build_container(runtime)
    try:
        yield container
    finally:
        await container.close()
        await runtime.close()


def _err(message: str) -> None:
    print(message, file=sys.stderr)


async def migrate(settings: Settings, _: argparse.Namespace) -> int:
    await run_migrations(settings.database_url)
    _err("database is up to date")
    return 0


async def accounts_create(settings: Settings, args: argparse.Namespace) -> int:
    async with _container(settings) as c:
        account = await (await c.get(CreateAccount)).execute(args.email, args.plan, admin=args.admin)
    print(f"{account.id}\t{account.email}\t{account.plan}\t{account.role}")
    return 0


async def _set_banned(settings: Settings, email: str, banned: bool) -> int:
    async with _container(settings) as c:
        account = await (await c.get(SetAccountBanned)).execute(email, banned)
    print(f"{account.email}\t{account.status}")
    return 0


async def accounts_ban(settings: Settings, args: argparse.Namespace) -> int:
    return await _set_banned(settings, args.email, True)


async def accounts_unban(settings: Settings, args: argparse.Namespace) -> int:
    return await _set_banned(settings, args.email, False)


async def keys_create(settings: Settings, args: argparse.Namespace) -> int:
    expires = datetime.now(UTC) + timedelta(days=args.expires_days) if args.expires_days else None
    models = frozenset(m.strip() for m in args.models.split(",") if m.strip()) if args.models else None
    async with _container(settings) as c:
        issued = await (await c.get(IssueApiKey)).execute(
            args.email, args.name, expires_at=expires, allowed_models=models
        )
    _err(f"key {issued.key.id} ({issued.key.name}) created; it is shown this once, store it now")
    print(issued.secret)
    return 0


def _status(key, now: datetime) -> str:  # type: ignore[no-untyped-def]
    if key.revoked_at:
        return "revoked"
    return "active" if key.is_active(now) else "expired"


async def keys_list(settings: Settings, args: argparse.Namespace) -> int:
    async with _container(settings) as c:
        keys = await (await c.get(ListApiKeys)).execute(args.email)
    now = datetime.now(UTC)
    print("id\tname\tprefix\tstatus\tcreated\texpires\tmodels")
    for key in keys:
        models = ",".join(sorted(key.allowed_models)) if key.allowed_models is not None else "*"
        expires = key.expires_at.isoformat(timespec="seconds") if key.expires_at else "-"
        created = key.created_at.isoformat(timespec="seconds")
        print(f"{key.id}\t{key.name}\t{key.prefix}...\t{_status(key, now)}\t{created}\t{expires}\t{models}")
    return 0


async def keys_revoke(settings: Settings, args: argparse.Namespace) -> int:
    async with _container(settings) as c:
        await (await c.get(RevokeApiKey)).execute(args.key_id)
    _err(f"key {args.key_id} revoked (gateways stop accepting it within {settings.key_cache_seconds:g} s)")
    return 0


async def credits_grant(settings: Settings, args: argparse.Namespace) -> int:
    try:
        micros = usd_to_micros(args.amount)
    except ValueError:
        raise InvalidRequest(f"AMOUNT must be a number of dollars, got {args.amount!r}") from None
    async with _container(settings) as c:
        applied, balance = await (await c.get(GrantCredits)).execute(
            args.email, micros, args.idempotency_key, args.note
        )
    if not applied:
        _err("this idempotency key was used before; nothing changed")
    print(f"{micros_to_usd(balance):.6f}")
    return 0


async def credits_balance(settings: Settings, args: argparse.Namespace) -> int:
    async with _container(settings) as c:
        account = await (await c.get(FindAccount)).execute(args.email)
        balance = await (await c.get(CreditLedger)).balance(account.id)
    print(f"{micros_to_usd(balance):.6f}")
    return 0


async def credits_leases(settings: Settings, _: argparse.Namespace) -> int:
    async with _container(settings) as c:
        standing = await (await c.get(ListLeases)).execute()
    now = datetime.now(UTC)
    print("lease\taccount\tamount\tspent\tage\texpires_in\tprocess")
    for s in standing:
        lease = s.lease
        age = (now - lease.opened_at).total_seconds()
        expires_in = (lease.expires_at - now).total_seconds()
        print(
            f"{lease.id}\t{s.email}\t${credits_text(lease.amount_micros)}\t${credits_text(s.recorded_spent_micros)}"
            f"\t{age:.0f}s\t{expires_in:.0f}s\t{lease.owner}"
        )
    _err(f"{len(standing)} open lease(s)")
    return 0


async def credits_reconcile(settings: Settings, _: argparse.Namespace) -> int:
    async with _container(settings) as c:
        returned = await (await c.get(ReconcileLeases)).execute()
    for lease, amount in returned:
        print(f"{lease.id}\t{lease.account_id}\t${credits_text(amount)} returned\t{lease.owner}")
    total = sum(amount for _, amount in returned)
    _err(f"returned {len(returned)} expired lease(s), ${credits_text(total)} in all")
    return 0


async def plans_list(settings: Settings, _: argparse.Namespace) -> int:
    async with _container(settings) as c:
        book = await c.get(PlanBook)
    for plan in book.all():
        marker = " (default)" if plan.name == book.default_name else ""
        print(f"{plan.name}{marker}: {plan.description or '-'}")
        for policy in plan.policies:
            endpoints = ",".join(sorted(policy.endpoints))
            window = policy.interval_label()
            print(f"  limit {policy.name}: {policy.limit} per {window} per {policy.subject} [{endpoints}]")
        pricing = plan.pricing
        price = (
            f"${micros_to_usd(pricing.per_request_micros):.6f} per request"
            if pricing.mode == "per_request"
            else f"upstream cost x {float(pricing.multiplier):g}"
        )
        print(f"  pricing: {price}; prepaid balance: {'yes' if plan.prepaid else 'no'}")
        for cap in plan.spend_caps:
            print(f"  spend cap: ${micros_to_usd(cap.limit_micros):.2f} per {cap.period}")
        if plan.allowed_models is not None:
            print(f"  models: {', '.join(sorted(plan.allowed_models))}")
    return 0


COMMANDS: dict[tuple[str, str | None], Callable[[Settings, argparse.Namespace], Awaitable[int]]] = {
    ("migrate", None): migrate,
    ("accounts", "create"): accounts_create,
    ("accounts", "ban"): accounts_ban,
    ("accounts", "unban"): accounts_unban,
    ("keys", "create"): keys_create,
    ("keys", "list"): keys_list,
    ("keys", "revoke"): keys_revoke,
    ("credits", "grant"): credits_grant,
    ("credits", "balance"): credits_balance,
    ("credits", "leases"): credits_leases,
    ("credits", "reconcile"): credits_reconcile,
    ("plans", "list"): plans_list,
}
