"""Images through the openai SDK (url and b64_json), image output through chat, and moderations."""

import base64

import httpx
import openai

from tests.fakes.upstream import FakeUpstreamHandle, start_fake_upstream
from tests.fakes.upstream.payloads import IMAGE_PNG
from tests.integration.e2e.harness import Gateway

IMAGE_MODEL = "google/gemini-2.5-flash-image"


def sdk(gateway: Gateway, key: str, prefix: str = "/api/v1") -> openai.OpenAI:
    return openai.OpenAI(api_key=key, base_url=gateway.url(prefix), max_retries=0)


def test_images_generate_gives_a_url_that_serves_the_image(gateway: Gateway, upstream: FakeUpstreamHandle) -> None:
    key = gateway.new_key()
    result = sdk(gateway, key).images.generate(model=IMAGE_MODEL, prompt="A cat on a roof", size="1792x1024")
    (image,) = result.data
    assert image.url and image.url.startswith(gateway.root + "/files/images/")
    assert image.revised_prompt
    sent = upstream.last_request().json()
    assert sent["modalities"] == ["image", "text"] and sent["image_config"] == {"aspect_ratio": "16:9"}
    served = httpx.get(image.url)
    assert served.status_code == 200 and served.headers["content-type"] == "image/png"
    assert served.content == IMAGE_PNG
    assert httpx.get(image.url[:-4] + "AAAA").status_code == 404
    usage = httpx.get(gateway.url() + "/stats", headers={"Authorization": f"Bearer {key}"}).json()
    assert usage["totalRequests"] == 1


def test_images_as_base64_and_several_at_once(gateway: Gateway, upstream: FakeUpstreamHandle) -> None:
    key = gateway.new_key()
    upstream.clear()
    result = sdk(gateway, key, "/v1").images.generate(
        model=IMAGE_MODEL, prompt="Two dogs", n=2, response_format="b64_json"
    )
    assert [base64.b64decode(item.b64_json or "") for item in result.data] == [IMAGE_PNG, IMAGE_PNG]
    assert len([r for r in upstream.requests() if r.path.endswith("/chat/completions")]) == 2


def test_bad_image_requests_are_400_naming_the_field(gateway: Gateway) -> None:
    client = sdk(gateway, gateway.new_key())
    for wrong, param in (({"prompt": "x" * 4001}, "prompt"), ({"n": 5}, "n"), ({"size": "7x7"}, "size")):
        try:
            client.images.generate(**{"model": IMAGE_MODEL, "prompt": "p", **wrong})  # type: ignore[arg-type]
        except openai.BadRequestError as error:
            assert error.body["param"] == param  # type: ignore[index]
        else:
            raise AssertionError(f"{wrong} was accepted")


def test_image_output_through_chat_passes_through(gateway: Gateway) -> None:
    key = gateway.new_key()
    body = {
        "model": IMAGE_MODEL,
        "messages": [{"role": "user", "content": "Make a picture of grass"}],
        "modalities": ["image", "text"],
        "image_config": {"aspect_ratio": "16:9"},
    }
    headers = {"Authorization": f"Bearer {key}"}
    answer = httpx.post(gateway.url() + "/chat/completions", json=body, headers=headers, timeout=15).json()
    url = answer["choices"][0]["message"]["images"][0]["image_url"]["url"]
    assert base64.b64decode(url.split(",")[1]) == IMAGE_PNG
    with httpx.stream(
        "POST", gateway.url() + "/chat/completions", json={**body, "stream": True}, headers=headers, timeout=15
    ) as streamed:
        text = "".join(streamed.iter_text())
    assert '"images"' in text and "data:image/png;base64," in text


def test_moderations_go_to_their_own_upstream(upstream: FakeUpstreamHandle) -> None:
    with start_fake_upstream(api_key="sk-moderation-key") as moderation:
        gateway = Gateway(
            upstream.base_url,
            extra_env={"SLUICE_MODERATION_URL": moderation.base_url, "SLUICE_MODERATION_API_KEY": "sk-moderation-key"},
        ).start()
        try:
            key = gateway.new_key()
            upstream.clear()
            result = sdk(gateway, key, "/proxy/v1").moderations.create(input="I want to kill them.")
            assert result.results[0].flagged is True
            assert moderation.last_request().path.endswith("/moderations")
            assert not [r for r in upstream.requests() if r.path.endswith("/moderations")]
        finally:
            gateway.stop()
