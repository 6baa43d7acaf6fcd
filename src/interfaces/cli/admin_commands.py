"""The admin subcommands by (command, action): each opens the container, runs one use case, closes everything."""

import argparse
from collections.abc import Awaitable, Callable

from interfaces.cli.account_commands import (
    accounts_ban,
    accounts_create,
    accounts_limits,
    accounts_list,
    accounts_show,
    accounts_unban,
)
from interfaces.cli.context import say
from interfaces.cli.credit_commands import credits_balance, credits_deduct, credits_grant
from interfaces.cli.key_commands import keys_create, keys_list, keys_revoke
from interfaces.cli.lease_commands import credits_leases, credits_reconcile
from interfaces.cli.password_commands import accounts_password
from interfaces.cli.plan_commands import plans_list
from interfaces.cli.usage_commands import usage
from interfaces.migrations import run_migrations
from interfaces.settings import Settings


async def migrate(settings: Settings, _: argparse.Namespace) -> int:
    await run_migrations(settings.database_url)
    say("database is up to date")
    return 0


COMMANDS: dict[tuple[str, str | None], Callable[[Settings, argparse.Namespace], Awaitable[int]]] = {
    ("migrate", None): migrate,
    ("accounts", "create"): accounts_create,
    ("accounts", "list"): accounts_list,
    ("accounts", "show"): accounts_show,
    ("accounts", "ban"): accounts_ban,
    ("accounts", "unban"): accounts_unban,
    ("accounts", "limits"): accounts_limits,
    ("accounts", "password"): accounts_password,
    ("keys", "create"): keys_create,
    ("keys", "list"): keys_list,
    ("keys", "revoke"): keys_revoke,
    ("credits", "grant"): credits_grant,
    ("credits", "deduct"): credits_deduct,
    ("credits", "balance"): credits_balance,
    ("credits", "leases"): credits_leases,
    ("credits", "reconcile"): credits_reconcile,
    ("plans", "list"): plans_list,
    ("usage", None): usage,
}
