"""`/moderations` as a metered call to the moderation upstream (OpenRouter has no such endpoint)."""

from application.background import BackgroundTasks
from application.metering import Meter
from application.ports.moderation import ModerationUpstream
from application.use_cases.proxy_model_request import ProxyModelRequest


class ProxyModerationRequest(ProxyModelRequest):
    def __init__(self, meter: Meter, upstream: ModerationUpstream, tasks: BackgroundTasks) -> None:
        super().__init__(meter, upstream, tasks)
