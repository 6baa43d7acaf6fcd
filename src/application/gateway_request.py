from collections.abc import Callable
from dataclasses import dataclass

from domain.plans import Endpoint
from domain.pricing import PLAN_TARIFF, Tariff


@dataclass(frozen=True, slots=True)
class GatewayRequest:
    """A model call as the use cases see it, whichever API family it came in by.

    `body` is what goes upstream, already in the upstream's format (the family translated it, or
    passes the caller's bytes on as they came). The rest is what policy and pricing read.
    """

    endpoint: Endpoint
    upstream_path: str  # e.g. "/chat/completions"
    model: str
    body: bytes
    stream: bool = False
    max_tokens: int | None = None
    client_ip: str = ""
    catalogued: bool = True  # False where the upstream's catalogue does not list the models (moderations)
    tariff: Tariff = PLAN_TARIFF
    # The client's self-descriptions (User-Agent, Referer, X-Title...), for the operator's block list.
    client_marks: tuple[str, ...] = ()
    # The same body naming another model: set by families that allow the model to be resolved
    # (an alias, or a name without its provider prefix) to the id the upstream serves.
    with_model: Callable[[str], bytes] | None = None
    # The caller's own words, for plans that moderate input before it goes upstream.
    input_texts: Callable[[], list[str]] | None = None
