"""/docs runs as it reads: its examples are taken from the rendered page (signed out) and run as they
stand, curl with real curl, Python with the official SDKs, JavaScript with node, against the session's
gateway and the fake upstream. The key goes where the page says it goes: `SLUICE_API_KEY`."""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import sys
import time

import httpx
import pytest

from tests.integration.e2e.harness import Gateway
from tests.integration.e2e.web_session import sign_up

MODEL = "openai/gpt-4o-mini"  # the fake upstream lists it first, and the default plan allows every model
_STATUS = "\nHTTP-STATUS %{http_code}\n"


def examples(page: str) -> dict[str, str]:
    """Example id -> its code as a reader copies it (what the copy button copies)."""
    found = re.findall(r'<code id="(ex-[a-z0-9-]+)" class="example-code[^"]*"[^>]*>(.*?)</code>', page, re.S)
    return {example_id: html.unescape(code).strip() for example_id, code in found}


@pytest.fixture(scope="module")
def page(gateway: Gateway) -> str:
    answer = httpx.get(gateway.root + "/docs")
    assert answer.status_code == 200
    return answer.text


@pytest.fixture(scope="module")
def funded_key(gateway: Gateway) -> str:
    """A key of a new account on the default plan (as a visitor's examples assume), made on the web."""
    web = httpx.Client(timeout=30)
    email = f"reader{time.monotonic_ns()}@example.org"
    sign_up(web, gateway.root, email, "correct horse battery staple")
    key = web.post(gateway.root + "/api/keys", json={"name": "docs"}).json()["key"]
    gateway.cli("credits", "grant", email, "5")  # the credits API takes one credit a call
    return key


def run(command: list[str], key: str, tmp_dir: str, **kwargs) -> subprocess.CompletedProcess[str]:  # type: ignore[no-untyped-def]
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("SLUICE_")},
        "SLUICE_API_KEY": key,
        "NO_PROXY": "*",
    }
    return subprocess.run(command, capture_output=True, text=True, timeout=60, env=env, cwd=tmp_dir, **kwargs)  # noqa: S603


def test_signed_out_the_page_has_this_instance_its_first_model_and_a_generic_key(gateway: Gateway, page: str) -> None:
    found = examples(page)
    assert found["ex-key"] == 'export SLUICE_API_KEY="YOUR_API_KEY"'
    assert "openai/text-embedding-3-small" in found["ex-openai-curl-embeddings"]
    families = {example_id.split("-")[1] for example_id in found if example_id != "ex-key"}
    assert families == {"openai", "gemini", "credits"}
    for family in families:
        kinds = {example_id.split("-")[2] for example_id in found if example_id.startswith(f"ex-{family}-")}
        assert {"curl", "python", "js"} <= kinds, family
    for example_id, code in found.items():
        if example_id != "ex-key":
            assert gateway.root in code and "SLUICE_API_KEY" in code, example_id
            if not example_id.endswith(("-embeddings", "-models")):
                assert MODEL in code, example_id
            assert "YOUR_API_KEY" not in code and "your-domain.com" not in code, example_id
    assert page.count('data-copy-target="ex-') == len(found)  # a copy button per example
    assert '<script src="/static/copy.js" defer></script>' in page


def test_signed_in_the_page_names_the_newest_key_and_never_a_secret(gateway: Gateway) -> None:
    web = httpx.Client(timeout=30)
    email = f"docs{time.monotonic_ns()}@example.org"
    sign_up(web, gateway.root, email, "correct horse battery staple")
    assert "no active key yet" in web.get(gateway.root + "/docs").text
    created = web.post(gateway.root + "/api/keys", json={"name": "notebook"}).json()

    page = web.get(gateway.root + "/docs").text

    assert examples(page)["ex-key"] == f'export SLUICE_API_KEY="{created["prefix"]}..."'
    assert "“notebook”" in page and created["key"] not in page


def test_every_curl_example_answers_200(gateway: Gateway, page: str, funded_key: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    curls = {example_id: code for example_id, code in examples(page).items() if "-curl" in example_id}
    assert len(curls) >= 7
    for example_id, code in curls.items():
        # Real curl, the example as it stands; the wrapper only prints each answer's status after it.
        script = f"curl() {{ command curl -sS -w '{_STATUS}' \"$@\"; }}\n{code}\n"
        result = run(["bash", "-c", script], funded_key, str(tmp_path))
        assert result.returncode == 0, (example_id, result.stderr)
        statuses = re.findall(r"HTTP-STATUS (\d+)", result.stdout)
        assert statuses and set(statuses) == {"200"}, (example_id, result.stdout[-2000:])
        body = result.stdout.split("\nHTTP-STATUS")[0]
        if "stream" in example_id:
            frames = [json.loads(line[6:]) for line in body.splitlines() if line.startswith("data: {")]
            assert frames, (example_id, body[:300])  # server-sent events, each a JSON object
        else:
            json.loads(body)  # a JSON answer, not an error page


def test_the_python_examples_run_with_the_official_sdks(gateway: Gateway, page: str, funded_key: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    found = examples(page)
    openai_run = run([sys.executable, "-c", found["ex-openai-python"]], funded_key, str(tmp_path))
    assert openai_run.returncode == 0, openai_run.stderr
    lines = openai_run.stdout.strip().splitlines()
    assert len(lines) >= 2 and all(lines), openai_run.stdout  # the answer, then the streamed one
    for example_id in ("ex-gemini-python", "ex-credits-python"):
        result = run([sys.executable, "-c", found[example_id]], funded_key, str(tmp_path))
        assert result.returncode == 0, (example_id, result.stderr)
        assert result.stdout.strip(), example_id
    assert "'credits_charged': 1" in result.stdout


def test_the_javascript_examples_run_in_node(gateway: Gateway, page: str, funded_key: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    node = shutil.which("node")
    assert node, "node is needed for the page's JavaScript examples (.ci/run installs it)"
    for example_id, code in examples(page).items():
        if not example_id.endswith("-js"):
            continue
        script = tmp_path / f"{example_id}.mjs"
        script.write_text(code)
        result = run([node, str(script)], funded_key, str(tmp_path))
        assert result.returncode == 0, (example_id, result.stderr)
        assert result.stdout.strip() and "error" not in result.stdout.lower(), (example_id, result.stdout)
