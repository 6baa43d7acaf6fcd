"""`sluice accounts plan` and `sluice accounts spend-cap`: an account's plan, and its own spend caps."""

import argparse

from application.use_cases.account_spend_caps import AccountSpendCaps
from application.use_cases.admin.audited_accounts import AuditedChangePlan, AuditedSetSpendCaps
from domain.plans import Period, SpendCapOverride
from interfaces.admin_input import parse_spend_cap
from interfaces.cli.actor import cli_actor
from interfaces.cli.context import container, say
from interfaces.cli.output import money, print_json, print_rows, usd_text
from interfaces.settings import Settings


async def accounts_plan(settings: Settings, args: argparse.Namespace) -> int:
    async with container(settings) as c:
        result = await (await c.get(AuditedChangePlan)).execute(cli_actor(), args.email, args.plan, args.reason)
    account = result.account
    print(f"{account.email}\t{account.plan}")
    if result.changed:
        say(
            f"{account.email} moved from plan {result.previous!r} to {account.plan!r}; gateways apply it within "
            f"{settings.key_cache_seconds:g} s (its own rate-limit and spend-cap overrides stay)"
        )
    else:
        say(f"{account.email} is on plan {account.plan!r} already; nothing changed")
    return 0


def _limit(micros: int | None) -> dict[str, object]:
    return money(micros, "limit") if micros is not None else {"limit_usd": None, "limit_micros": None}


def _print_caps(result: AccountSpendCaps, as_json: bool) -> None:
    effective = {cap.period: cap.limit_micros for cap in result.effective}
    if as_json:
        print_json(
            {
                "email": result.account.email,
                "plan": result.plan.name,
                # limit_micros null: the account's override lifts the plan's cap of that period
                "overrides": [{"period": o.period.value, **_limit(o.limit_micros)} for o in result.account.spend_caps],
                "spend_caps": [
                    {"period": p.value, "source": result.source(p), **money(effective[p], "limit")}
                    for p in Period
                    if p in effective
                ],
            }
        )
        return
    print_rows(
        ("period", "cap", "source"),
        ((p.value, usd_text(effective[p]) if p in effective else "none", result.source(p)) for p in Period),
    )


async def accounts_spend_cap(settings: Settings, args: argparse.Namespace) -> int:
    changes: list[SpendCapOverride] = []
    reset: list[Period] = []
    for period in Period:
        text = getattr(args, period.value)
        if text is None:
            continue
        cap = parse_spend_cap(period, text)
        if cap is None:
            reset.append(period)
        else:
            changes.append(cap)
    async with container(settings) as c:
        result = await (await c.get(AuditedSetSpendCaps)).execute(
            cli_actor(), args.email, changes, reset=reset, clear=args.clear, reason=args.reason
        )
    _print_caps(result, args.json)
    if not (changes or reset or args.clear):
        return 0
    email, seconds = result.account.email, f"{settings.key_cache_seconds:g} s"
    if not result.changed:
        say(f"{email}'s spend caps are so already; nothing changed")
    elif result.account.spend_caps:
        say(f"{email}'s spend caps set; gateways apply them within {seconds}")
    else:
        say(f"{email}'s spend cap overrides cleared: its plan {result.plan.name!r} caps it within {seconds}")
    return 0
