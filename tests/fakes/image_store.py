"""An in-memory `ImageStore`, for use-case tests: the same contract as SqlImageStore, in a dict."""

from __future__ import annotations

from datetime import datetime

from application.ports.clock import Clock
from domain.images import StoredImage, new_image_token


class InMemoryImageStore:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self.images: dict[str, StoredImage] = {}  # every image put and not purged, expired or not

    async def put(self, data: bytes, media_type: str, account_id: str, expires_at: datetime) -> str:
        token = new_image_token()
        self.images[token] = StoredImage(token, media_type, data, account_id, self._clock.now(), expires_at)
        return token

    async def get(self, token: str, now: datetime) -> StoredImage | None:
        image = self.images.get(token)
        return None if image is None or image.expired(now) else image

    async def purge(self, now: datetime) -> int:
        gone = [token for token, image in self.images.items() if image.expired(now)]
        for token in gone:
            del self.images[token]
        return len(gone)
