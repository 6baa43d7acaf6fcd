import argparse

from application.use_cases.account_report import DescribeAccount
from application.use_cases.accounts import CreateAccount, ListAccounts, SetAccountBanned
from domain.accounts import Account
from domain.plans import Period
from interfaces.cli.context import container, say
from interfaces.cli.key_commands import key_json, key_row
from interfaces.cli.output import money, print_json, print_rows, usd_text, when
from interfaces.settings import Settings


def account_json(account: Account) -> dict[str, object]:
    return {
        "id": account.id,
        "email": account.email,
        "role": account.role.value,
        "plan": account.plan,
        "status": account.status.value,
        "created": when(account.created_at),
    }


async def accounts_create(settings: Settings, args: argparse.Namespace) -> int:
    async with container(settings) as c:
        account = await (await c.get(CreateAccount)).execute(args.email, args.plan, admin=args.admin)
    print(f"{account.id}\t{account.email}\t{account.plan}\t{account.role}")
    say(f"account {account.email} created on plan {account.plan!r} as {account.role}")
    return 0


async def _set_banned(settings: Settings, email: str, banned: bool) -> int:
    async with container(settings) as c:
        account, changed = await (await c.get(SetAccountBanned)).execute(email, banned)
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
    return await _set_banned(settings, args.email, True)


async def accounts_unban(settings: Settings, args: argparse.Namespace) -> int:
    return await _set_banned(settings, args.email, False)


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
    ):
        print(f"{label}:\t{value}")
    for key in report.keys:
        print("\t" + "\t".join(str(cell) for cell in key_row(key)[:4]))
    return 0
