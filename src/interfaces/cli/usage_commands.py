import argparse
from datetime import UTC, datetime

from application.ports.usage import Grouping
from application.use_cases.usage_summary import SummarizeUsage
from domain.errors import InvalidRequest
from interfaces.cli.context import container
from interfaces.cli.output import money, print_json, print_rows, usd_text
from interfaces.settings import Settings


def parse_since(text: str) -> datetime:
    """A date (midnight UTC) or an ISO time; a time without a zone is UTC."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidRequest(
            f"--since must be a date (2025-03-14) or an ISO time (2025-03-14T09:30:00Z), got {text!r}", "since"
        ) from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


async def usage(settings: Settings, args: argparse.Namespace) -> int:
    since = parse_since(args.since) if args.since else None
    by = Grouping(args.by) if args.by else None
    async with container(settings) as c:
        groups = await (await c.get(SummarizeUsage)).execute(args.email, since, by)
    if args.json:
        print_json(
            [
                {
                    **({by.value: g.key} if by else {}),
                    "requests": g.totals.requests,
                    "prompt_tokens": g.totals.prompt_tokens,
                    "completion_tokens": g.totals.completion_tokens,
                    **money(g.totals.cost_micros, "cost"),
                    **money(g.totals.charged_micros, "charged"),
                }
                for g in groups
            ]
        )
        return 0
    header = ("requests", "prompt_tokens", "completion_tokens", "upstream_cost", "charged")
    print_rows(
        ((by.value,) if by else ()) + header,
        (
            ((g.key,) if by else ())
            + (
                g.totals.requests,
                g.totals.prompt_tokens,
                g.totals.completion_tokens,
                usd_text(g.totals.cost_micros),
                usd_text(g.totals.charged_micros),
            )
            for g in groups
        ),
    )
    return 0
