"""Images made by an image-capable chat model: one upstream call per image, kept to be served back."""

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from application.background import BackgroundTasks
from application.gateway_request import GatewayRequest
from application.metering import Meter
from application.ports.clock import Clock
from application.ports.image_store import ImageStore
from application.ports.upstream import Upstream, UpstreamError, UpstreamReply
from application.principal import Principal
from domain.images import GeneratedImage, StoredImage
from domain.pricing import Usage
from domain.rate_policy import Decision
from domain.usage import Outcome

# How the family reads the images out of one upstream answer (raises UpstreamError when there are none).
ImageReader = Callable[[bytes], list[GeneratedImage]]


@dataclass(frozen=True, slots=True)
class MadeImage:
    image: GeneratedImage
    token: str | None = None  # set when the image was kept to be served at a URL


@dataclass(frozen=True, slots=True)
class ImagesMade:
    """Exactly one of `images` and `error` is meaningful: no image at all is an error."""

    request_id: str
    decision: Decision | None
    images: tuple[MadeImage, ...] = ()
    usage: Usage | None = None
    error: UpstreamError | None = None


def _summed(replies: list[UpstreamReply]) -> Usage | None:
    usages = [r.usage for r in replies if r.usage is not None]
    if not usages:
        return None
    costs = [u.cost_micros for u in usages]
    return Usage(
        sum(u.prompt_tokens for u in usages),
        sum(u.completion_tokens for u in usages),
        None if any(c is None for c in costs) else sum(c for c in costs if c is not None),
    )


class GenerateImages:
    def __init__(
        self,
        meter: Meter,
        upstream: Upstream,
        tasks: BackgroundTasks,
        images: ImageStore,
        clock: Clock,
        keep_seconds: float = 3600.0,
    ) -> None:
        self._meter = meter
        self._upstream = upstream
        self._tasks = tasks
        self._images = images
        self._clock = clock
        self._keep = timedelta(seconds=keep_seconds)

    async def execute(
        self, principal: Principal, request: GatewayRequest, *, count: int, read: ImageReader, keep: bool
    ) -> ImagesMade:
        """`count` images (the tariff counts them too); `keep`: store them to be served at a URL."""
        admission = await self._meter.admit(principal, request)
        body = admission.request.body
        try:
            answers = await asyncio.gather(
                *(self._upstream.complete(request.upstream_path, body) for _ in range(count)), return_exceptions=True
            )
            replies = [a for a in answers if isinstance(a, UpstreamReply)]
            failures = [a for a in answers if isinstance(a, BaseException)]
            for failure in failures:
                if not isinstance(failure, UpstreamError):
                    raise failure
            made: list[GeneratedImage] = []
            for reply in replies:
                try:
                    made.extend(read(reply.body))
                except UpstreamError as error:
                    failures.append(error)
            made = made[:count]
            usage = _summed(replies)
            if not made:
                error = next(f for f in failures if isinstance(f, UpstreamError))
                self._tasks.spawn(
                    self._meter.settle(admission, outcome=Outcome.UPSTREAM_ERROR, http_status=error.status)
                )
                return ImagesMade(admission.request_id, admission.decision, error=error)
            kept = [await self._kept(image, principal.account.id) if keep else MadeImage(image) for image in made]
        except BaseException:
            # Nothing was served (cancelled, or the store failed): the reservation must not stay held.
            self._tasks.spawn(self._meter.settle(admission, outcome=Outcome.UPSTREAM_ERROR, http_status=499))
            raise
        # Billed for what was served: a price per image counts the images delivered, not those asked for.
        self._tasks.spawn(
            self._meter.settle(admission, outcome=Outcome.OK, http_status=200, usage=usage, units=len(kept))
        )
        return ImagesMade(admission.request_id, admission.decision, tuple(kept), usage)

    async def _kept(self, image: GeneratedImage, account_id: str) -> MadeImage:
        if image.data is None or image.media_type is None:
            return MadeImage(image)  # the upstream gave a URL of its own: passed on as it is
        token = await self._images.put(image.data, image.media_type, account_id, self._clock.now() + self._keep)
        return MadeImage(image, token)


class FetchImage:
    def __init__(self, images: ImageStore, clock: Clock) -> None:
        self._images = images
        self._clock = clock

    async def execute(self, token: str) -> StoredImage | None:
        return await self._images.get(token, self._clock.now())


class PurgeExpiredImages:
    def __init__(self, images: ImageStore, clock: Clock) -> None:
        self._images = images
        self._clock = clock

    async def execute(self) -> int:
        return await self._images.purge(self._clock.now())
