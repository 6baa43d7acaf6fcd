import argparse
import re

from application.use_cases.account_limits import AccountLimits, LimitSetting
from application.use_cases.account_report import DescribeAccount
from application.use_cases.accounts import CreateAccount, ListAccounts
from application.use_cases.admin.audited_accounts import AuditedSetBanned, AuditedSetLimits
from domain.accounts import Account
from domain.errors import InvalidRequest
from domain.plans import Period, RatePolicy, Subject
from interfaces.cli.actor import cli_actor
from interfaces.cli.context import container, say
from interfaces.cli.key_commands import key_json, key_row
from interfaces.cli.output import money, print_json, print_rows, usd_text, when
from interfaces.gateway_config import parse_duration
from interfaces.settings import Settings

_LIMIT_SETTING = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9_.-]{0,63})\s*=\s*(\d+)\s*/\s*(\S+)\s*$")


def limit_json(policy: RatePolicy) -> dict[str, object]:
    return {
        "name": policy.name,
        "requests": policy.limit,
        "per": policy.interval_label(),
        "subject": policy.subject.value,
        "endpoints": sorted(policy.endpoints),
    }


def limit_text(policy: RatePolicy) -> str:
    return f"{policy.name}={policy.limit}/{policy.interval_label()} per {policy.subject}"


def account_json(account: Account) -> dict[str, object]:
    return {
        "id": account.id,
        "email": account.email,
        "role": account.role.value,
        "plan": account.plan,
        "status": account.status.value,
        "created": when(account.created_at),
        "rate_limits": [limit_json(p) for p in account.rate_limits],
    }


def parse_limit_setting(text: str) -> LimitSetting:
    """`chat=1000/1m`: BUCKET=REQUESTS/WINDOW, the window as in the config (30, 1m, 30m, 1h, 1d; m = 1m)."""
    match = _LIMIT_SETTING.match(text)
    seconds = parse_duration(match.group(3)) if match else None
    if match is None or seconds is None:
        raise InvalidRequest(f"--set wants BUCKET=REQUESTS/WINDOW such as chat=1000/1m, got {text!r}", param="set")
    return LimitSetting(match.group(1), int(match.group(2)), seconds)


async def accounts_create(settings: Settings, args: argparse.Namespace) -> int:
    async with container(settings) as c:
        account = await (await c.get(CreateAccount)).execute(args.email, args.plan, admin=args.admin)
    print(f"{account.id}\t{account.email}\t{account.plan}\t{account.role}")
    say(f"account {account.email} created on plan {account.plan!r} as {account.role}")
    return 0


async def _set_banned(settings: Settings, email: str, banned: bool, reason: str) -> int:
    async with container(settings) as c:
        account, changed = await (await c.get(AuditedSetBanned)).execute(cli_actor(), email, banned, reason)
    print(f"{account.email}\t{account.status}")
    seconds = f"{settings.key_cache_seconds:g} s"
    if not changed:
        say(f"{account.email} is already {account.status}; nothing changed")
    elif banned:
        say(f"{account.email} banned; gateways stop accepting its keys within {seconds}")
    else:
        say(f"{account.email} unbanned; gateways accept its keys again within {seconds}")
    return 0


async def accounts_ban(settings: Settings, args: argparse.Namespace) -> int:
    return await _set_banned(settings, args.email, True, args.reason)


async def accounts_unban(settings: Settings, args: argparse.Namespace) -> int:
    return await _set_banned(settings, args.email, False, args.reason)


async def accounts_list(settings: Settings, args: argparse.Namespace) -> int:
    async with container(settings) as c:
        found = await (await c.get(ListAccounts)).execute(args.plan, banned=args.banned)
    if args.json:
        print_json([{**account_json(a), **money(balance, "balance")} for a, balance in found])
        return 0
    print_rows(
        ("id", "email", "role", "plan", "status", "created", "balance"),
        ((a.id, a.email, a.role, a.plan, a.status, when(a.created_at), usd_text(balance)) for a, balance in found),
    )
    return 0


_PERIOD_WORDS = {Period.DAY: "today", Period.WEEK: "this week", Period.MONTH: "this month"}


async def accounts_show(settings: Settings, args: argparse.Namespace) -> int:
    async with container(settings) as c:
        report = await (await c.get(DescribeAccount)).execute(args.email)
    account = report.account
    if args.json:
        print_json(
            {
                **account_json(account),
                "plan_configured": report.plan_configured,
                **money(report.balance_micros, "balance"),
                "spent": {p.value: money(m, "charged") for p, m in report.spent_micros.items()},
                "spend_caps": [
                    {"period": cap.period.value, **money(cap.limit_micros, "limit")} for cap in report.spend_caps
                ],
                "keys": [key_json(key) for key in report.keys],
            }
        )
        return 0
    plan = account.plan if report.plan_configured else f"{account.plan} (not configured: the default plan applies)"
    spent = ", ".join(f"{_PERIOD_WORDS[p]} {usd_text(m)}" for p, m in report.spent_micros.items())
    caps = ", ".join(f"{usd_text(cap.limit_micros)} per {cap.period}" for cap in report.spend_caps) or "none"
    for label, value in (
        ("id", account.id),
        ("email", account.email),
        ("role", account.role),
        ("plan", plan),
        ("status", account.status),
        ("created", when(account.created_at)),
        ("balance", usd_text(report.balance_micros)),
        ("spent", spent),
        ("spend caps", caps),
        ("keys", len(report.keys)),
        ("rate limits", ", ".join(limit_text(p) for p in account.rate_limits) or "the plan's"),
    ):
        print(f"{label}:\t{value}")
    for key in report.keys:
        print("\t" + "\t".join(str(cell) for cell in key_row(key)[:4]))
    return 0


def _source(result: AccountLimits, policy: RatePolicy) -> str:
    return "account" if result.overridden(policy) else "plan"


def _print_limits(result: AccountLimits, as_json: bool) -> None:
    if as_json:
        print_json(
            {
                "email": result.account.email,
                "plan": result.plan.name,
                "overrides": [limit_json(p) for p in result.account.rate_limits],
                "limits": [{**limit_json(p), "source": _source(result, p)} for p in result.effective],
            }
        )
        return
    print_rows(
        ("bucket", "requests", "per", "subject", "endpoints", "source"),
        (
            (p.name, p.limit, p.interval_label(), p.subject, ",".join(sorted(p.endpoints)), _source(result, p))
            for p in result.effective
        ),
    )


async def accounts_limits(settings: Settings, args: argparse.Namespace) -> int:
    changes = [parse_limit_setting(text) for text in args.set_limits]
    subject = Subject(args.subject) if args.subject else None
    async with container(settings) as c:
        result = await (await c.get(AuditedSetLimits)).execute(
            cli_actor(), args.email, changes, subject=subject, clear=args.clear, reason=args.reason
        )
    _print_limits(result, args.json)
    email, seconds = result.account.email, f"{settings.key_cache_seconds:g} s"
    if not (changes or args.clear):
        return 0
    if not result.changed:
        say(f"{email}'s rate limits are so already; nothing changed")
    elif result.account.rate_limits:
        say(f"{email}'s rate limits set; gateways apply them within {seconds}")
    else:
        say(f"{email}'s rate limit overrides cleared: its plan {result.plan.name!r} applies within {seconds}")
    return 0
