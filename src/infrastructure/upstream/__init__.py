"""Adapters for the upstream ports: the HTTP client for OpenRouter-compatible servers and its model catalogue."""

from infrastructure.upstream.catalog import CachedModelCatalog
from infrastructure.upstream.openrouter import OpenRouterStream, OpenRouterUpstream
from infrastructure.upstream.sse import SseSplitter, classify

__all__ = ["CachedModelCatalog", "OpenRouterStream", "OpenRouterUpstream", "SseSplitter", "classify"]
