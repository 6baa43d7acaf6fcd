"""SLUICE_CONFIG: the TOML file's keys, parsed and refused."""

import re
import tomllib
from pathlib import Path

import pytest

from domain.model_names import DEFAULT_MODEL_ALIASES
from interfaces.gateway_config import GatewayConfig, load_config, parse_config, parse_duration
from interfaces.settings import SettingsError


def parse(text: str) -> GatewayConfig:
    return parse_config(tomllib.loads(text))


def test_no_file_is_the_built_ins() -> None:
    sut = load_config(None)
    assert sut == GatewayConfig()
    assert sut.default_plan == "default" and sut.allowed_models is None
    assert dict(sut.model_aliases) == dict(DEFAULT_MODEL_ALIASES)
    assert sut.model_aliases["dall-e-3"] == "google/gemini-2.5-flash-image"


def test_a_default_plan_may_be_a_builtin(tmp_path: Path) -> None:
    config = tmp_path / "sluice.toml"
    config.write_text('default_plan = "free"\n')
    assert load_config(config).default_plan == "free"


def test_model_aliases_go_over_the_builtins() -> None:
    sut = parse(
        """
        [models.aliases]
        "gpt-4" = "openai/gpt-4o"
        "dall-e-3" = " openai/dall-e-3 "
        """
    )
    assert sut.model_aliases == {**DEFAULT_MODEL_ALIASES, "gpt-4": "openai/gpt-4o", "dall-e-3": "openai/dall-e-3"}


def test_builtin_aliases_can_be_dropped() -> None:
    sut = parse('[models]\nbuiltin_aliases = false\n[models.aliases]\nfast = "google/gemini-2.5-flash"\n')
    assert sut.model_aliases == {"fast": "google/gemini-2.5-flash"}
    assert parse("[models]\nbuiltin_aliases = false\n").model_aliases == {}


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ('[models.aliases]\nfast = ""\n', "models.aliases.fast"),
        ("[models.aliases]\nfast = 3\n", "models.aliases.fast"),
        ('[models]\naliases = ["a"]\n', "models.aliases"),
        ('[models]\nbuiltin_aliases = "no"\n', "models.builtin_aliases"),
        ('models = "all"\n', "models"),
    ],
)
def test_bad_aliases_are_refused_naming_the_key(text: str, where: str) -> None:
    with pytest.raises(SettingsError, match=re.escape(f"SLUICE_CONFIG: {where}:")):
        parse(text)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [(30, 30.0), ("30", 30.0), ("1m", 60.0), ("30 min", 1800.0), ("1h", 3600.0), ("1d", 86400.0), ("m", 60.0)],
)
def test_durations(value: object, seconds: float) -> None:
    assert parse_duration(value) == seconds


@pytest.mark.parametrize("value", ["fortnight", "", "1 week", True, "-1m"])
def test_not_durations(value: object) -> None:
    assert parse_duration(value) is None


def test_a_limit_window_must_be_positive() -> None:
    with pytest.raises(SettingsError, match=r"plans\.x\.limits: a window must be positive"):
        parse('[plans.x]\nlimits = [{ name = "chat", requests = 1, per = 0 }]\n')
    with pytest.raises(SettingsError, match=r"plans\.x\.limits: not a duration"):
        parse('[plans.x]\nlimits = [{ name = "chat", requests = 1, per = "soon" }]\n')


# ---- [policy]


def test_no_client_is_blocked_by_default() -> None:
    sut = load_config(None)
    assert sut.block_clients == ()
    assert not sut.client_policy.enabled
    assert parse("[policy]\n").block_clients == ()


def test_block_clients() -> None:
    sut = parse('[policy]\nblock_clients = ["Cursor", " claude-cli "]\n')
    assert sut.block_clients == ("Cursor", "claude-cli")
    assert sut.client_policy.match("claude-cli/1.0.3 (external, cli)") == "claude-cli"


@pytest.mark.parametrize(
    ("text", "where", "message"),
    [
        (
            '[policy]\nblock_clients = ["Cursor", ""]\n',
            "policy.block_clients",
            "a blocked client entry must be printable text",
        ),
        ('[policy]\nblock_clients = ["  "]\n', "policy.block_clients", "a blocked client entry must be printable text"),
        ('[policy]\nblock_clients = "Cursor"\n', "policy.block_clients", "must be an array of strings"),
        ("[policy]\nblock_clients = [1]\n", "policy.block_clients", "must be an array of strings"),
        ('[policy]\nblock_client = ["Cursor"]\n', "policy", "unknown key 'block_client'"),
        ('policy = "strict"\n', "policy", "must be a table"),
    ],
)
def test_bad_policies_are_refused(text: str, where: str, message: str) -> None:
    with pytest.raises(SettingsError, match=re.escape(f"SLUICE_CONFIG: {where}: {message}")):
        parse(text)


def test_the_documented_example_parses() -> None:
    example = Path(__file__).resolve().parents[2] / "docs" / "examples" / "sluice.toml"
    sut = load_config(example)
    assert {p.name for p in sut.plans} == {"default", "standard", "team"}
    assert sut.model_aliases["gpt-4"] == "openai/gpt-4o"
    assert sut.model_aliases["dall-e-3"] == "google/gemini-2.5-flash-image"
    policy = sut.client_policy
    assert "Cursor" in sut.block_clients and "claude-cli" in sut.block_clients
    assert policy.match("claude-cli/1.0.83 (external, cli)") == "claude-cli"
    assert policy.match("codex_cli_rs/0.20.0 (Mac OS 14.5.0; arm64)") == "Codex"
    assert policy.match(None, None, "https://cline.bot", "Cline") == "Cline"
    assert policy.match(None, None, "https://github.com/RooVetGit/Roo-Cline", "Roo Code") == "Cline"
    assert policy.match("OpenAI/Python 1.99.0", None, "https://myapp.example", "My App") is None
    assert policy.match("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/124.0 Safari/537.36") is None
