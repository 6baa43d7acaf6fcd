"""The admin subcommands by (command, action): the module and function that run each.

Named rather than imported: `sluice` imports a command's module (and through it most of the app) only
when that command runs, so `--help`, a usage error or one command does not import them all.
"""

import argparse
import importlib
from collections.abc import Awaitable, Callable

from interfaces.settings import Settings

Command = Callable[[Settings, argparse.Namespace], Awaitable[int]]

COMMANDS: dict[tuple[str, str | None], str] = {
    ("migrate", None): "interfaces.cli.migrate_command:migrate",
    ("accounts", "create"): "interfaces.cli.account_commands:accounts_create",
    ("accounts", "list"): "interfaces.cli.account_commands:accounts_list",
    ("accounts", "show"): "interfaces.cli.account_commands:accounts_show",
    ("accounts", "ban"): "interfaces.cli.account_commands:accounts_ban",
    ("accounts", "unban"): "interfaces.cli.account_commands:accounts_unban",
    ("accounts", "limits"): "interfaces.cli.account_commands:accounts_limits",
    ("accounts", "plan"): "interfaces.cli.plan_change_commands:accounts_plan",
    ("accounts", "spend-cap"): "interfaces.cli.plan_change_commands:accounts_spend_cap",
    ("accounts", "password"): "interfaces.cli.password_commands:accounts_password",
    ("keys", "create"): "interfaces.cli.key_commands:keys_create",
    ("keys", "list"): "interfaces.cli.key_commands:keys_list",
    ("keys", "revoke"): "interfaces.cli.key_commands:keys_revoke",
    ("credits", "grant"): "interfaces.cli.credit_commands:credits_grant",
    ("credits", "deduct"): "interfaces.cli.credit_commands:credits_deduct",
    ("credits", "balance"): "interfaces.cli.credit_commands:credits_balance",
    ("credits", "leases"): "interfaces.cli.lease_commands:credits_leases",
    ("credits", "reconcile"): "interfaces.cli.lease_commands:credits_reconcile",
    ("codes", "issue"): "interfaces.cli.code_commands:codes_issue",
    ("codes", "list"): "interfaces.cli.code_commands:codes_list",
    ("codes", "revoke"): "interfaces.cli.code_commands:codes_revoke",
    ("plans", "list"): "interfaces.cli.plan_commands:plans_list",
    ("usage", None): "interfaces.cli.usage_commands:usage",
    ("audit", "list"): "interfaces.cli.audit_commands:audit_list",
}


def load_command(command: str, action: str | None) -> Command:
    """The function for `sluice COMMAND [ACTION]`, its module imported now."""
    module, _, name = COMMANDS[(command, action)].partition(":")
    found: Command = getattr(importlib.import_module(module), name)
    return found
