"""Models as the catalogue page lists them: limits and the viewer's own prices, in words."""

from typing import Any

from application.use_cases.allowed_models import AllowedModel
from domain.credits import usd_text


def tokens(value: int | None) -> str:
    return f"{value:,}" if value else "—"


def model_row(model: AllowedModel) -> dict[str, Any]:
    info, price = model.info, model.price
    if price is None:
        prompt = completion = "not listed"
        request = ""
    elif price.flat:
        prompt = completion = "—"
        request = f"{usd_text(price.per_request_micros)} a request"
    else:
        prompt = usd_text(price.prompt_per_million_micros or 0)
        completion = usd_text(price.completion_per_million_micros or 0)
        request = f"+ {usd_text(price.per_request_micros)} a request" if price.per_request_micros else ""
    return {
        "id": info.id,
        "name": info.name if info.name and info.name != info.id else "",
        "context": tokens(info.context_length),
        "max_completion": tokens(info.max_completion_tokens),
        "prompt": prompt,
        "completion": completion,
        "request": request,
    }
