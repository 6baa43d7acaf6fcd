"""Every command, option and argument of `sluice`, each with its help text."""

import argparse
from importlib.metadata import version

from domain.audit import AuditAction
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


def _reason(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--reason", metavar="TEXT", default="", help="why, kept in the audit log")


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
    _reason(ban)
    unban = accounts.add_parser("unban", help="lift a ban: its keys work again within the key cache time")
    _email(unban)
    _reason(unban)
    plan = accounts.add_parser("plan", help="move an account to another plan (within the key cache time)")
    _email(plan)
    plan.add_argument("plan", metavar="PLAN", help="the plan's name (see `sluice plans list`)")
    _reason(plan)
    caps = accounts.add_parser(
        "spend-cap",
        help="show an account's spend caps, or override its plan's period by period (within the key cache time)",
    )
    _email(caps)
    for period in ("day", "week", "month"):
        caps.add_argument(
            f"--{period}",
            metavar="USD|none|plan",
            default=None,
            help=f"cap the account's spending per {period} (UTC) at USD dollars, lift the plan's cap (none), "
            "or go back to the plan's (plan)",
        )
    caps.add_argument(
        "--clear", action="store_true", help="drop every override first (with nothing else: the plan's caps)"
    )
    _reason(caps)
    _json(caps)
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
    _reason(limits)
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
    _reason(revoke)


def _credits(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    credits = sub.add_parser("credits", help="manage prepaid credits (in dollars)").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    grant = credits.add_parser("grant", help="add credits to an account's balance")
    _email(grant)
    _amount(grant, "add")
    _idempotency(grant, "grant")
    grant.add_argument(
        "--note", metavar="TEXT", default="", help="a note kept with the ledger entry (and as the audit log's reason)"
    )
    _json(grant)
    deduct = credits.add_parser("deduct", help="take credits back (never below a $0 balance)")
    _email(deduct)
    _amount(deduct, "take back")
    deduct.add_argument(
        "--reason", metavar="TEXT", required=True, help="why, kept with the ledger entry and in the audit log"
    )
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


def _codes(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    codes = sub.add_parser("codes", help="redemption codes worth credits, redeemed on /credits").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    issue = codes.add_parser("issue", help="issue codes; prints each once, one a line, on stdout (only hashes kept)")
    issue.add_argument(
        "--credits", metavar="N", required=True, help="what each redemption adds, in credits ($1 = 1 credit), e.g. 10"
    )
    issue.add_argument(
        "--uses", metavar="M", type=int, default=1, help="how many accounts may redeem each code (each once); default 1"
    )
    issue.add_argument(
        "--expires", metavar="WHEN", default=None, help="after a duration (30d, 12h) or on a date (YYYY-MM-DD, UTC); "
        "default: never"
    )
    issue.add_argument("--count", metavar="K", type=int, default=1, help="how many codes to issue; default 1")
    _json(issue)
    _json(codes.add_parser("list", help="list codes: credits, uses, status, expiry (never the codes themselves)"))
    revoke = codes.add_parser("revoke", help="revoke a code: it admits no further redemption")
    revoke.add_argument("code_id", metavar="ID", help="the code's id, as `sluice codes list` shows it")

def _audit(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    audit = sub.add_parser("audit", help="read the audit log of admin actions").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    listing = audit.add_parser("list", help="audit entries, newest first")
    listing.add_argument(
        "--action",
        metavar="A",
        default=None,
        dest="audit_action",
        help=f"only this action: {', '.join(a.value for a in AuditAction)}",
    )
    listing.add_argument(
        "--target", metavar="T", default=None, help="only about this account (email or id, its keys included) or key id"
    )
    listing.add_argument(
        "--actor", metavar="WHO", default=None, help="only by this admin (email), or cli (every cli:USER), or cli:USER"
    )
    listing.add_argument("--since", metavar="WHEN", default=None, help="from this date (UTC) or ISO time on")
    listing.add_argument("--until", metavar="WHEN", default=None, help="before this date (UTC) or ISO time")
    listing.add_argument("--limit", metavar="N", type=int, default=50, help="at most N entries (1 to 200; default 50)")
    listing.add_argument(
        "--before", metavar="SEQ", type=int, default=None, help="only entries older than SEQ (the next page)"
    )
    _json(listing)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sluice", description="Sluice AI gateway: serve it, and manage its state")
    parser.add_argument("--version", action="version", version=f"sluice {version('sluice')}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub.add_parser("serve", help="run the gateway (migrates first unless SLUICE_AUTO_MIGRATE=0)")
    sub.add_parser("migrate", help="bring the database schema up to date")
    _accounts(sub)
    _keys(sub)
    _credits(sub)
    _codes(sub)
    usage = sub.add_parser("usage", help="requests, tokens, upstream cost and charges, from the usage records")
    usage.add_argument("email", metavar="EMAIL", nargs="?", default=None, help="one account; default: all accounts")
    usage.add_argument(
        "--since", metavar="WHEN", default=None, help="from this date (YYYY-MM-DD, UTC) or ISO time on; default: all"
    )
    usage.add_argument(
        "--by",
        choices=("model", "day", "account", "plan"),
        default=None,
        help="one row per model, per UTC day, per account (its id) or per plan (the one each account is on now)",
    )
    _json(usage)
    _audit(sub)
    plans = sub.add_parser("plans", help="inspect plans").add_subparsers(dest="action", required=True, metavar="ACTION")
    _json(plans.add_parser("list", help="list the configured plans"))
    return parser
