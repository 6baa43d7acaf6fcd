import argparse

from application.plan_book import PlanBook
from domain.credits import usd_text
from domain.plans import Plan, PricingMode
from interfaces.cli.context import container
from interfaces.cli.output import money, print_json
from interfaces.settings import Settings


def _plan_json(plan: Plan, default: bool) -> dict[str, object]:
    pricing = plan.pricing
    return {
        "name": plan.name,
        "default": default,
        "description": plan.description,
        "limits": [
            {
                "name": p.name,
                "requests": p.limit,
                "per": p.interval_label(),
                "subject": p.subject.value,
                "endpoints": sorted(p.endpoints),
            }
            for p in plan.policies
        ],
        "pricing": {"mode": pricing.mode.value, **money(pricing.per_request_micros, "per_request")}
        if pricing.mode is PricingMode.PER_REQUEST
        else {"mode": pricing.mode.value, "multiplier": str(pricing.multiplier)},
        "prepaid": plan.prepaid,
        "spend_caps": [{"period": cap.period.value, **money(cap.limit_micros, "limit")} for cap in plan.spend_caps],
        "models": sorted(plan.allowed_models) if plan.allowed_models is not None else None,
    }


async def plans_list(settings: Settings, args: argparse.Namespace) -> int:
    async with container(settings) as c:
        book = await c.get(PlanBook)
    if args.json:
        print_json([_plan_json(plan, plan.name == book.default_name) for plan in book.all()])
        return 0
    for plan in book.all():
        marker = " (default)" if plan.name == book.default_name else ""
        print(f"{plan.name}{marker}: {plan.description or '-'}")
        for policy in plan.policies:
            endpoints = ",".join(sorted(policy.endpoints))
            window = policy.interval_label()
            print(f"  limit {policy.name}: {policy.limit} per {window} per {policy.subject} [{endpoints}]")
        pricing = plan.pricing
        price = (
            f"{usd_text(pricing.per_request_micros)} per request"
            if pricing.mode is PricingMode.PER_REQUEST
            else f"upstream cost x {float(pricing.multiplier):g}"
        )
        print(f"  pricing: {price}; prepaid balance: {'yes' if plan.prepaid else 'no'}")
        for cap in plan.spend_caps:
            print(f"  spend cap: {usd_text(cap.limit_micros)} per {cap.period}")
        if plan.allowed_models is not None:
            print(f"  models: {', '.join(sorted(plan.allowed_models))}")
    return 0
