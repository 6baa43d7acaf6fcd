"""Which API family and endpoint a path belongs to: the bounded labels of every request's metrics.

Only the gateway's own route names come out (never a path segment a client chose), so a scan of
random paths adds no series.
"""

_OPENAI_PREFIXES = ("/proxy/v1/", "/api/v1/", "/v1/")
_GEMINI_PREFIXES = ("/api/v1beta/", "/v1beta/")
_OPENAI_ENDPOINTS = {
    "chat/completions": "chat",
    "embeddings": "embeddings",
    "embeddings/models": "models",
    "images/generations": "images",
    "moderations": "moderations",
    "models": "models",
    "stats": "stats",
    "key": "key",
    "auth/key": "key",
}
_GEMINI_METHODS = {
    "generateContent": "chat",
    "streamGenerateContent": "chat",
    "countTokens": "count_tokens",
    "embedContent": "embeddings",
    "batchEmbedContents": "embeddings",
}
_OPS = {"/healthz": "health", "/readyz": "health", "/metrics": "metrics"}


def classify(path: str) -> tuple[str, str]:
    """(family, endpoint) for a request path."""
    if path == "/api/v1/chat" or path == "/api/v1/chat/":
        return "credits", "chat"
    if path == "/api/models" or path == "/api/models/":
        return "credits", "models"
    for prefix in _OPENAI_PREFIXES:
        if path.startswith(prefix):
            rest = path[len(prefix) :].rstrip("/")
            if rest.startswith("models/"):
                return "openai", "models"
            return "openai", _OPENAI_ENDPOINTS.get(rest, "other")
    for prefix in _GEMINI_PREFIXES:
        if path.startswith(prefix):
            rest = path[len(prefix) :]
            if not rest.startswith("models"):
                return "gemini", "other"
            _, colon, method = rest.rpartition(":")
            if not colon:
                return "gemini", "models"
            return "gemini", _GEMINI_METHODS.get(method, "other")
    ops = _OPS.get(path)
    if ops is not None:
        return "ops", ops
    if path.startswith("/files/"):
        return "openai", "files"
    if path.startswith("/webhooks/"):
        return "web", "webhook"
    if path.startswith("/api/keys"):
        return "web", "key"
    if path.startswith("/openapi.json"):
        return "ops", "other"
    if path.startswith("/static/") or path.startswith("/schema"):
        return "web", "other"
    return "web", "page"
