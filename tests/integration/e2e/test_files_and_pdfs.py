"""PDFs and file parts reach the upstream intact, annotations come back and go out again intact,
and each family answers a body over its limit with 413 in its own shape."""

import base64

import httpx
import requests

from tests.fakes.upstream import FakeUpstreamHandle
from tests.fixtures.pdf import tiny_pdf
from tests.integration.e2e.harness import Gateway

MODEL = "openai/gpt-4o-mini"


def encode_pdf(data: bytes) -> str:
    return f"data:application/pdf;base64,{base64.b64encode(data).decode()}"


def test_a_base64_pdf_and_its_annotations_round_trip(gateway: Gateway, upstream: FakeUpstreamHandle) -> None:
    key = gateway.new_key()
    url = gateway.url() + "/chat/completions"
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    document = {"type": "file", "file": {"filename": "document.pdf", "file_data": encode_pdf(tiny_pdf())}}
    first_turn = {"role": "user", "content": [{"type": "text", "text": "Summarize this document"}, document]}
    plugins = [{"id": "file-parser", "pdf": {"engine": "mistral-ocr"}}]
    # The spec's Python example, as written.
    result = requests.post(
        url, headers=headers, json={"model": MODEL, "messages": [first_turn], "plugins": plugins}, timeout=15
    ).json()
    sent = upstream.last_request().json()
    assert sent["messages"][0]["content"][1] == document and sent["plugins"] == plugins
    assert base64.b64decode(sent["messages"][0]["content"][1]["file"]["file_data"].split(",")[1]) == tiny_pdf()
    annotations = result["choices"][0]["message"].get("annotations")
    assert annotations and annotations[0]["file"]["name"] == "document.pdf"

    follow_up = {
        "model": MODEL,
        "messages": [
            first_turn,
            {"role": "assistant", "content": result["choices"][0]["message"]["content"], "annotations": annotations},
            {"role": "user", "content": "Can you elaborate on point 2?"},
        ],
    }
    assert requests.post(url, headers=headers, json=follow_up, timeout=15).status_code == 200
    assert upstream.last_request().json()["messages"][1]["annotations"] == annotations


def test_a_pdf_by_url_and_a_gemini_inline_pdf(gateway: Gateway, upstream: FakeUpstreamHandle) -> None:
    key = gateway.new_key()
    by_url = {"type": "file", "file": {"filename": "bitcoin.pdf", "file_data": "https://bitcoin.org/bitcoin.pdf"}}
    body = {
        "model": MODEL,
        "messages": [{"role": "user", "content": [{"type": "text", "text": "Main points?"}, by_url]}],
        "plugins": [{"id": "file-parser", "pdf": {"engine": "pdf-text"}}],
    }
    headers = {"Authorization": f"Bearer {key}"}
    assert httpx.post(gateway.url() + "/chat/completions", json=body, headers=headers).status_code == 200
    assert upstream.last_request().json()["messages"][0]["content"][1] == by_url

    data = base64.b64encode(tiny_pdf()).decode()
    inline = {"inlineData": {"mimeType": "application/pdf", "data": data}}
    gemini = {"contents": [{"parts": [{"text": "Summarize"}, inline]}]}
    answer = httpx.post(
        f"{gateway.root}/api/v1beta/models/{MODEL}:generateContent", json=gemini, headers={"x-goog-api-key": key}
    )
    assert answer.status_code == 200, answer.text
    part = upstream.last_request().json()["messages"][0]["content"][1]
    assert part["type"] == "file" and part["file"]["file_data"] == f"data:application/pdf;base64,{data}"


def test_a_body_over_the_limit_is_413_in_each_familys_shape(gateway: Gateway) -> None:
    key = gateway.new_key()
    big = encode_pdf(tiny_pdf(padding=300 * 1024))  # the e2e gateway allows 256 KiB
    message = {"role": "user", "content": [{"type": "file", "file": {"filename": "big.pdf", "file_data": big}}]}
    headers = {"Authorization": f"Bearer {key}", "x-goog-api-key": key}
    openai_family = httpx.post(
        gateway.url() + "/chat/completions", json={"model": MODEL, "messages": [message]}, headers=headers
    )
    assert openai_family.status_code == 413 and openai_family.json()["error"]["code"] == "request_too_large"
    gemini = httpx.post(
        f"{gateway.root}/v1beta/models/{MODEL}:generateContent",
        json={"contents": [{"parts": [{"inlineData": {"mimeType": "application/pdf", "data": big}}]}]},
        headers=headers,
    )
    assert gemini.status_code == 413 and gemini.json()["error"]["status"] == "INVALID_ARGUMENT"
    credits = httpx.post(gateway.root + "/api/v1/chat", json={"model": MODEL, "messages": [message]}, headers=headers)
    assert credits.status_code == 413 and set(credits.json()) == {"error"}
