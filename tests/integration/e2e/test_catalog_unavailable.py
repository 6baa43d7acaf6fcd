"""With no model list loaded (and none cached), the model routes say "unavailable", not "no models"."""

import httpx
import pytest

from tests.fakes.upstream import FakeUpstreamHandle
from tests.integration.e2e.harness import Gateway


@pytest.mark.parametrize("status", [503, 500])
def test_model_routes_are_503_when_the_catalogue_cannot_load(upstream: FakeUpstreamHandle, status: int) -> None:
    upstream.configure(status=status)  # every upstream route fails, /models included
    gw = Gateway(upstream.base_url).start()  # its own process: nothing cached from earlier tests
    try:
        for path in ("/models", "/models/qwen/qwen3-32b", "/embeddings/models"):
            response = httpx.get(gw.url() + path, timeout=15)
            assert response.status_code == 503, (path, response.text)
            assert response.headers["retry-after"] == "30"
            error = response.json()["error"]
            assert error["code"] == "catalog_unavailable"
            assert error["type"] == "service_unavailable_error"
            assert set(error) == {"message", "type", "code", "param"}
    finally:
        gw.stop()


def test_model_routes_answer_the_list_when_the_catalogue_loads(gateway: Gateway) -> None:
    listing = httpx.get(gateway.url() + "/models", timeout=15).json()
    assert listing["object"] == "list" and listing["data"]
    assert httpx.get(gateway.url() + "/models/qwen/qwen3-32b", timeout=15).json()["id"] == "qwen/qwen3-32b"
    assert httpx.get(gateway.url() + "/models/nobody/nothing", timeout=15).status_code == 404
