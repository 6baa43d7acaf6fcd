"""Generated images: what an image request may ask for, and what the gateway keeps to serve it back.

An image made for an OpenAI-style ``POST /images/generations`` is kept in the database (so any
replica can serve it) under a token of 32 random bytes, at an unguessable URL, until it expires.
The bytes are served with the media type read off the bytes themselves (``sniff_media_type``): only
raster formats a browser cannot run script from (PNG, JPEG, WebP, GIF; never SVG or HTML) are kept.
"""

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType

TOKEN_BYTES = 32  # 256 bits: `secrets.token_urlsafe(32)` is 43 URL-safe characters

MAX_PROMPT_CHARS = 4000
MAX_IMAGES = 4  # `n`; each image is one upstream call
DEFAULT_SIZE = "1024x1024"

# The sizes OpenAI's images API takes, as the aspect ratio an image-capable chat model is asked for.
# "auto" asks for none: the model chooses (1:1 for Gemini).
ASPECT_RATIOS: Mapping[str, str | None] = MappingProxyType(
    {
        "256x256": "1:1",
        "512x512": "1:1",
        "1024x1024": "1:1",
        "1792x1024": "16:9",
        "1024x1792": "9:16",
        "1536x1024": "3:2",
        "1024x1536": "2:3",
        "auto": None,
    }
)
# DALL-E's standard|hd, GPT Image's low|medium|high (and the SDK's newer xhigh|max), and auto.
QUALITIES = ("standard", "hd", "low", "medium", "high", "xhigh", "max", "auto")
HIGH_QUALITIES = frozenset({"hd", "high", "xhigh", "max"})
STYLES = ("vivid", "natural")
RESPONSE_FORMATS = ("url", "b64_json")
OUTPUT_FORMATS = ("png", "jpeg", "webp")

# What may be stored and served, by signature: formats a browser renders and never executes.
_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)


@dataclass(frozen=True, slots=True)
class ImageAsk:
    """A validated image-generation request, in OpenAI's terms.

    `style` and `output_format` are accepted and not enforced: a chat model draws in the format it
    draws in, and the image is served with the media type of its bytes.
    """

    model: str
    prompt: str
    n: int = 1
    size: str = DEFAULT_SIZE
    quality: str | None = None
    response_format: str = "url"
    style: str | None = None
    user: str | None = None
    output_format: str | None = None

    @property
    def aspect_ratio(self) -> str | None:
        return ASPECT_RATIOS[self.size]

    @property
    def high_quality(self) -> bool:
        return self.quality in HIGH_QUALITIES

    @property
    def wants_url(self) -> bool:
        return self.response_format == "url"


@dataclass(frozen=True, slots=True)
class GeneratedImage:
    """One image an upstream produced: its bytes (from a data URL) or, failing that, a URL to pass on."""

    data: bytes | None
    media_type: str | None  # set with `data`: sniffed from the bytes
    url: str | None = None  # an http(s) URL the upstream gave instead of bytes
    revised_prompt: str | None = None  # the text the model answered beside the image, if any


@dataclass(frozen=True, slots=True)
class StoredImage:
    token: str
    media_type: str
    data: bytes
    account_id: str  # who it was made for (attribution; the URL itself needs no key)
    created_at: datetime
    expires_at: datetime

    def expired(self, now: datetime) -> bool:
        return now >= self.expires_at


def new_image_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def sniff_media_type(data: bytes) -> str | None:
    """The media type of a PNG, JPEG, GIF or WebP image from its first bytes; None for anything else."""
    for signature, media_type in _SIGNATURES:
        if data.startswith(signature):
            return media_type
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None
