"""The served OpenAPI document covers every route, with bodies, error statuses, SSE and bearer auth."""

import httpx

from tests.integration.e2e.harness import Gateway


def test_the_document_describes_every_route(gateway: Gateway) -> None:
    doc = httpx.get(gateway.root + "/openapi.json", timeout=15).json()
    paths = doc["paths"]
    for prefix in ("/proxy/v1", "/api/v1", "/v1"):
        chat = paths[prefix + "/chat/completions"]["post"]
        assert chat["requestBody"]["content"]["application/json"]["schema"]["required"] == ["model", "messages"]
        assert set(chat["responses"]["200"]["content"]) == {"application/json", "text/event-stream"}
        assert {"400", "401", "402", "403", "404", "413", "429", "502", "503", "504"} <= set(chat["responses"])
        assert "Retry-After" in chat["responses"]["429"]["headers"]
        assert chat["security"] == [{"bearer": []}]
        for path in ("/embeddings", "/moderations", "/models", "/models/{model_id}", "/embeddings/models", "/stats"):
            assert prefix + path in paths
    assert {"/healthz", "/readyz", "/metrics"} <= set(paths)
    assert doc["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
