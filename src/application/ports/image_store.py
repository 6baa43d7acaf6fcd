from datetime import datetime
from typing import Protocol

from domain.images import StoredImage


class ImageStore(Protocol):
    """Generated images kept for a while under an unguessable token, readable by every replica."""

    async def put(self, data: bytes, media_type: str, account_id: str, expires_at: datetime) -> str:
        """Stores the image; returns its token (32 random bytes, URL-safe base64: `domain.images.new_image_token`)."""
        ...

    async def get(self, token: str, now: datetime) -> StoredImage | None:
        """The image, or None when the token is unknown or the image has expired (`expires_at <= now`)."""
        ...

    async def purge(self, now: datetime) -> int:
        """Deletes every image expired at `now`; returns how many."""
        ...
