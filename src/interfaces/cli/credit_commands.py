import argparse

from application.ports.credits import CreditLedger
from application.use_cases.accounts import FindAccount
from application.use_cases.admin.audited_credits import AuditedDeductCredits, AuditedGrantCredits
from application.use_cases.credits import CreditChange
from application.use_cases.leases import ListLeases
from interfaces.admin_input import parse_dollars
from interfaces.cli.actor import cli_actor
from interfaces.cli.context import container, say
from interfaces.cli.output import money, print_json, usd_text
from interfaces.settings import Settings


def parse_amount(text: str, name: str = "AMOUNT") -> int:
    """Dollars as typed (`12.50`, `$0.000012`) to micro-dollars, exactly or not at all."""
    return parse_dollars(text, name.lower().lstrip("-"), name)


def _report(email: str, change: CreditChange, verb: str, as_json: bool) -> None:
    if as_json:
        print_json(
            {
                "email": email,
                "applied": change.applied,
                **money(change.amount_micros, "amount"),
                **money(change.balance_micros, "balance"),
            }
        )
    else:
        print(usd_text(change.balance_micros))
    if change.applied:
        say(
            f"{verb} {usd_text(change.amount_micros)} for {email}; the balance is now {usd_text(change.balance_micros)}"
        )
    else:
        say(
            "this idempotency key was used before for the same change; nothing changed "
            f"(balance {usd_text(change.balance_micros)})"
        )


async def credits_grant(settings: Settings, args: argparse.Namespace) -> int:
    micros = parse_amount(args.amount)
    async with container(settings) as c:
        change = await (await c.get(AuditedGrantCredits)).execute(
            cli_actor(), args.email, micros, args.note, args.idempotency_key
        )
    _report(args.email, change, "granted", args.json)
    return 0


async def credits_deduct(settings: Settings, args: argparse.Namespace) -> int:
    micros = parse_amount(args.amount)
    async with container(settings) as c:
        change = await (await c.get(AuditedDeductCredits)).execute(
            cli_actor(), args.email, micros, args.reason, args.idempotency_key
        )
    _report(args.email, change, "deducted", args.json)
    return 0


async def credits_balance(settings: Settings, args: argparse.Namespace) -> int:
    async with container(settings) as c:
        account = await (await c.get(FindAccount)).execute(args.email)
        balance = await (await c.get(CreditLedger)).balance(account.id)
        leased = [s for s in await (await c.get(ListLeases)).execute() if s.lease.account_id == account.id]
    # Credit a running gateway holds in a lease is out of the balance until it goes back: say how much.
    held = sum(s.lease.amount_micros - s.recorded_spent_micros for s in leased)
    if args.json:
        print_json({"email": account.email, **money(balance, "balance"), **money(held, "held_in_leases")})
    else:
        print(usd_text(balance))
        if leased:
            say(f"plus up to {usd_text(held)} held in {len(leased)} open lease(s) by running gateways")
    return 0
