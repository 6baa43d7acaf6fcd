from dataclasses import dataclass

from domain.plans import Endpoint


@dataclass(frozen=True, slots=True)
class GatewayRequest:
    """A model call as the use cases see it: what policy needs, plus the exact bytes to forward."""

    endpoint: Endpoint
    upstream_path: str  # e.g. "/chat/completions"
    model: str
    body: bytes  # forwarded upstream byte for byte (with usage reporting switched on)
    stream: bool = False
    client_wants_usage: bool = False
    max_tokens: int | None = None
    client_ip: str = ""
    catalogued: bool = True  # False where the upstream's catalogue does not list the models (moderations)
