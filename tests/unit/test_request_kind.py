"""Every path maps to one of the gateway's own family and endpoint names: bounded metric labels."""

import pytest

from interfaces.http.request_kind import classify

CASES = [
    ("/v1/chat/completions", ("openai", "chat")),
    ("/proxy/v1/chat/completions", ("openai", "chat")),
    ("/api/v1/chat/completions", ("openai", "chat")),
    ("/api/v1/embeddings", ("openai", "embeddings")),
    ("/v1/embeddings/models", ("openai", "models")),
    ("/v1/images/generations", ("openai", "images")),
    ("/v1/moderations", ("openai", "moderations")),
    ("/v1/models", ("openai", "models")),
    ("/v1/models/openai/gpt-4o-mini", ("openai", "models")),
    ("/api/v1/stats", ("openai", "stats")),
    ("/api/v1/key", ("openai", "key")),
    ("/api/v1/auth/key", ("openai", "key")),
    ("/v1/no/such/thing", ("openai", "other")),
    ("/api/v1/chat", ("credits", "chat")),
    ("/api/models", ("credits", "models")),
    ("/v1beta/models", ("gemini", "models")),
    ("/api/v1beta/models/gemini-2.5-flash", ("gemini", "models")),
    ("/v1beta/models/google/gemini-2.5-flash:generateContent", ("gemini", "chat")),
    ("/v1beta/models/gemini-2.5-flash:streamGenerateContent", ("gemini", "chat")),
    ("/v1beta/models/gemini-2.5-flash:countTokens", ("gemini", "count_tokens")),
    ("/v1beta/models/x:whatever", ("gemini", "other")),
    ("/healthz", ("ops", "health")),
    ("/readyz", ("ops", "health")),
    ("/metrics", ("ops", "metrics")),
    ("/files/images/abc", ("openai", "files")),
    ("/webhooks/stripe", ("web", "webhook")),
    ("/api/keys/key_1", ("web", "key")),
    ("/dashboard", ("web", "page")),
    ("/", ("web", "page")),
]


@pytest.mark.parametrize(("path", "expected"), CASES)
def test_paths_are_classified(path: str, expected: tuple[str, str]) -> None:
    assert classify(path) == expected


def test_labels_come_from_a_fixed_set_whatever_the_path() -> None:
    families = {"openai", "gemini", "credits", "web", "ops", "other"}
    endpoints = {
        "chat", "embeddings", "images", "moderations", "models", "count_tokens", "stats", "key",
        "files", "webhook", "page", "health", "metrics", "other",
    }  # fmt: skip
    for path in ("/v1/" + "x" * 50, "/v1beta/models/a:" + "b" * 40, "/%00", "/api/v1/chat/x", "/v1beta/zzz"):
        family, endpoint = classify(path)
        assert family in families and endpoint in endpoints
