"""What the gateway knows of a model from the upstream's catalogue: its id, limits and prices."""

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ModelPrice:
    """Pico-dollars (10**-12 USD) per token and per request, as the upstream lists them."""

    prompt_picos: int = 0
    completion_picos: int = 0
    request_picos: int = 0


@dataclass(frozen=True, slots=True)
class ModelInfo:
    id: str
    price: ModelPrice | None = None
    context_length: int | None = None
    max_completion_tokens: int | None = None
    name: str | None = None  # the upstream's display name ("OpenAI: GPT-4o-mini"), when it gives one
