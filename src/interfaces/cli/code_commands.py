"""`sluice codes issue|list|revoke`: redemption codes worth credits, which accounts redeem on /credits."""

import argparse
from datetime import UTC, datetime, timedelta

from application.use_cases.admin.audited_codes import AuditedIssueCodes, AuditedRevokeCode
from application.use_cases.redemption_codes import ListRedemptionCodes
from domain.credits import credits_text
from domain.errors import InvalidRequest
from domain.redemption import RedemptionCode
from interfaces.cli.actor import cli_actor
from interfaces.cli.context import container, say
from interfaces.cli.credit_commands import parse_amount
from interfaces.cli.output import print_json, print_rows, when
from interfaces.gateway_config import parse_duration
from interfaces.settings import Settings


def parse_expiry(text: str | None, now: datetime) -> datetime | None:
    """`30d`, `12h` from now, or a UTC date (`2027-01-31`, the end of that day is excluded) or ISO time."""
    if text is None or not text.strip():
        return None
    seconds = parse_duration(text)
    if seconds is not None:
        if seconds <= 0:
            raise InvalidRequest("--expires must lie in the future", param="expires")
        return now + timedelta(seconds=seconds)
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidRequest(
            f"--expires takes a duration (30d, 12h) or a date (YYYY-MM-DD), got {text!r}", param="expires"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def code_json(code: RedemptionCode, now: datetime) -> dict[str, object]:
    return {
        "id": code.id,
        "credits": credits_text(code.credits_micros),
        "credits_micros": code.credits_micros,
        "uses": code.uses,
        "max_uses": code.max_uses,
        "status": code.status(now).value,
        "expires": code.expires_at.isoformat(timespec="seconds") if code.expires_at else None,
        "created": when(code.created_at),
        "created_by": code.created_by,
        "revoked": code.revoked_at.isoformat(timespec="seconds") if code.revoked_at else None,
    }


async def codes_issue(settings: Settings, args: argparse.Namespace) -> int:
    micros = parse_amount(args.credits, "--credits")
    expires = parse_expiry(args.expires, datetime.now(UTC))
    async with container(settings) as c:
        issued = await (await c.get(AuditedIssueCodes)).execute(
            cli_actor(), micros, max_uses=args.uses, count=args.count, expires_at=expires
        )
    now = datetime.now(UTC)
    if args.json:
        print_json([{**code_json(i.code, now), "code": i.secret} for i in issued])
    else:
        for i in issued:
            print(i.secret)
    uses = "once" if args.uses == 1 else f"by up to {args.uses} accounts"
    until = f", until {when(expires)}" if expires else ""
    say(
        f"{len(issued)} code(s) worth {credits_text(micros)} credits each, redeemable {uses}{until}; "
        "they are shown this once, store them now"
    )
    return 0


async def codes_list(settings: Settings, args: argparse.Namespace) -> int:
    async with container(settings) as c:
        codes = await (await c.get(ListRedemptionCodes)).execute()
    now = datetime.now(UTC)
    if args.json:
        print_json([code_json(code, now) for code in codes])
        return 0
    print_rows(
        ("id", "credits", "uses", "status", "expires", "created", "created_by"),
        (
            (
                code.id,
                credits_text(code.credits_micros),
                f"{code.uses}/{code.max_uses}",
                code.status(now).value,
                when(code.expires_at),
                when(code.created_at),
                code.created_by,
            )
            for code in codes
        ),
    )
    return 0


async def codes_revoke(settings: Settings, args: argparse.Namespace) -> int:
    async with container(settings) as c:
        code, changed = await (await c.get(AuditedRevokeCode)).execute(cli_actor(), args.code_id)
    if changed:
        say(f"code {code.id} revoked after {code.uses} of {code.max_uses} use(s); it admits no further redemption")
    else:
        say(f"code {code.id} was already revoked at {when(code.revoked_at)}; nothing changed")
    return 0
