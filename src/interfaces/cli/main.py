"""`sluice ...`: the operator's commands. Names are stable: operators script them.

Results go to stdout (a new key alone on its line, so `KEY=$(sluice keys create ...)` works);
messages go to stderr; failures exit with status 1 and one line saying why.
"""

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable

from domain.errors import DomainError
from interfaces.cli import admin_commands
from interfaces.settings import SettingsError, load_settings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sluice", description="Sluice AI gateway")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("serve", help="run the gateway (migrates first unless SLUICE_AUTO_MIGRATE=0)")
    sub.add_parser("migrate", help="bring the database schema up to date")

    accounts = sub.add_parser("accounts", help="manage accounts").add_subparsers(dest="action", required=True)
    create = accounts.add_parser("create", help="create an account")
    create.add_argument("email")
    create.add_argument("--plan", default=None)
    create.add_argument("--admin", action="store_true")
    for action in ("ban", "unban"):
        accounts.add_parser(action, help=f"{action} an account").add_argument("email")

    keys = sub.add_parser("keys", help="manage API keys").add_subparsers(dest="action", required=True)
    kcreate = keys.add_parser("create", help="issue a key; prints it once, alone, on stdout")
    kcreate.add_argument("email")
    kcreate.add_argument("--name", required=True)
    kcreate.add_argument("--expires-days", type=int, default=None)
    kcreate.add_argument("--models", default=None, help="comma-separated allow-list for this key")
    keys.add_parser("list", help="list an account's keys").add_argument("email")
    keys.add_parser("revoke", help="revoke a key").add_argument("key_id")

    credits = sub.add_parser("credits", help="manage credits").add_subparsers(dest="action", required=True)
    grant = credits.add_parser("grant", help="add credits in dollars (negative to remove)")
    grant.add_argument("email")
    grant.add_argument("amount")
    grant.add_argument("--idempotency-key", default=None)
    grant.add_argument("--note", default="")
    credits.add_parser("balance", help="show an account's balance").add_argument("email")
    credits.add_parser("leases", help="list open credit leases: account, amount, age, process")
    credits.add_parser(
        "reconcile", help="return expired credit leases of dead processes now (idempotent; gateways also do it)"
    )

    plans = sub.add_parser("plans", help="inspect plans").add_subparsers(dest="action", required=True)
    plans.add_parser("list", help="list the configured plans")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = load_settings(serving=args.command == "serve")
        if args.command == "serve":
            from interfaces.cli.serve import serve

            return serve(settings)
        command: Callable[..., Awaitable[int]] = admin_commands.COMMANDS[(args.command, getattr(args, "action", None))]
        return asyncio.run(command(settings, args))
    except SettingsError as exc:
        print(f"sluice: configuration error: {exc}", file=sys.stderr)
        return 2
    except DomainError as exc:
        print(f"sluice: {exc.message}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
