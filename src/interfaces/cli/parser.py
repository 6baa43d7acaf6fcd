"""Every command, option and argument of `sluice`, each with its help text."""

import argparse
from importlib.metadata import version

from domain.plans import Subject

_EMAIL = {"metavar": "EMAIL", "help": "the account's email address"}
_JSON = {"action": "store_true", "help": "print JSON instead of tab-separated text"}


def _email(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("email", **_EMAIL)  # type: ignore[arg-type]


def _json(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", **_JSON)  # type: ignore[arg-type]


def _amount(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument(
        "amount", metavar="AMOUNT", help=f"dollars to {what}, e.g. 12.50 (more than $0, at most $1,000,000)"
    )


def _idempotency(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument(
        "--idempotency-key",
        metavar="K",
        default=None,
        help=f"{what} once per K: repeating the command with the same K changes nothing; "
        "K used before for another change is an error",
    )


def _accounts(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    accounts = sub.add_parser("accounts", help="manage accounts").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    create = accounts.add_parser("create", help="create an account")
    _email(create)
    create.add_argument(
        "--plan", metavar="NAME", default=None, help="its plan (see `sluice plans list`); default: the default plan"
    )
    create.add_argument("--admin", action="store_true", help="give the account the admin role")
    listing = accounts.add_parser("list", help="list accounts with their balances")
    listing.add_argument("--plan", metavar="NAME", default=None, help="only accounts on this plan")
    listing.add_argument("--banned", action="store_true", help="only banned accounts")
    _json(listing)
    show = accounts.add_parser("show", help="an account's plan, status, balance, keys and spend this period")
    _email(show)
    _json(show)
    ban = accounts.add_parser("ban", help="ban an account: its keys stop working within the key cache time")
    _email(ban)
    unban = accounts.add_parser("unban", help="lift a ban: its keys work again within the key cache time")
    _email(unban)
    password = accounts.add_parser(
        "password",
        help="set an account's dashboard password, read from standard input (not echoed on a terminal; "
        "from a pipe, the first line); ends the account's sessions",
    )
    _email(password)
    limits = accounts.add_parser(
        "limits",
        help="show an account's rate limits, or override its plan's bucket by bucket (within the key cache time)",
    )
    _email(limits)
    limits.add_argument(
        "--set",
        metavar="BUCKET=N/WINDOW",
        action="append",
        default=[],
        dest="set_limits",
        help="N requests per WINDOW (30s, 1m, 30m, 1h, 1d) in BUCKET: one of the plan's buckets (chat, images, "
        "moderations, per-ip...) keeps its endpoints, a new one is chat (chat and embeddings), embeddings, images "
        "or moderations; repeatable; other overrides are kept",
    )
    limits.add_argument(
        "--subject",
        choices=[s.value for s in Subject],
        default=None,
        help="count the --set buckets per account, per key or per client IP; default: as the bucket is now",
    )
    limits.add_argument(
        "--clear", action="store_true", help="drop every override first (with no --set: back to the plan's limits)"
    )
    _json(limits)


def _keys(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    keys = sub.add_parser("keys", help="manage API keys").add_subparsers(dest="action", required=True, metavar="ACTION")
    create = keys.add_parser("create", help="issue a key; prints it once, alone, on stdout")
    _email(create)
    create.add_argument("--name", metavar="NAME", required=True, help="a label for the key (e.g. laptop)")
    create.add_argument(
        "--expires-days", metavar="N", type=int, default=None, help="the key stops working after N days; default: never"
    )
    create.add_argument(
        "--models", metavar="A,B", default=None, help="comma-separated model ids this key may use; default: the plan's"
    )
    listing = keys.add_parser("list", help="list an account's keys (never the secrets)")
    _email(listing)
    _json(listing)
    revoke = keys.add_parser("revoke", help="revoke a key: gateways stop accepting it within the key cache time")
    revoke.add_argument("key_id", metavar="KEY_ID", help="the key's id, as `sluice keys list` shows it")


def _credits(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    credits = sub.add_parser("credits", help="manage prepaid credits (in dollars)").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    grant = credits.add_parser("grant", help="add credits to an account's balance")
    _email(grant)
    _amount(grant, "add")
    _idempotency(grant, "grant")
    grant.add_argument("--note", metavar="TEXT", default="", help="a note kept with the ledger entry")
    _json(grant)
    deduct = credits.add_parser("deduct", help="take credits back (never below a $0 balance)")
    _email(deduct)
    _amount(deduct, "take back")
    deduct.add_argument("--reason", metavar="TEXT", required=True, help="why, kept with the ledger entry")
    _idempotency(deduct, "deduct")
    _json(deduct)
    balance = credits.add_parser("balance", help="show an account's balance")
    _email(balance)
    _json(balance)
    leases = credits.add_parser(
        "leases", help="list open credit leases (account, amount, spent so far, age, expiry, process)"
    )
    _json(leases)
    reconcile = credits.add_parser(
        "reconcile",
        help="return now the expired leases of processes that died, less what their usage records spent "
        "(idempotent; running gateways do it on their own within the lease time)",
    )
    _json(reconcile)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sluice", description="Sluice AI gateway: serve it, and manage its state")
    parser.add_argument("--version", action="version", version=f"sluice {version('sluice')}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub.add_parser("serve", help="run the gateway (migrates first unless SLUICE_AUTO_MIGRATE=0)")
    sub.add_parser("migrate", help="bring the database schema up to date")
    _accounts(sub)
    _keys(sub)
    _credits(sub)
    usage = sub.add_parser("usage", help="requests, tokens, upstream cost and charges, from the usage records")
    usage.add_argument("email", metavar="EMAIL", nargs="?", default=None, help="one account; default: all accounts")
    usage.add_argument(
        "--since", metavar="WHEN", default=None, help="from this date (YYYY-MM-DD, UTC) or ISO time on; default: all"
    )
    usage.add_argument("--by", choices=("model", "day"), default=None, help="one row per model or per UTC day")
    _json(usage)
    plans = sub.add_parser("plans", help="inspect plans").add_subparsers(dest="action", required=True, metavar="ACTION")
    _json(plans.add_parser("list", help="list the configured plans"))
    return parser
