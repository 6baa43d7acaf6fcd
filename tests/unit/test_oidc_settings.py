"""Which OpenID Connect providers the login page offers: SLUICE_OIDC_* and `[[oidc.providers]]`."""

import tomllib

import pytest

from interfaces.gateway_config import load_config, parse_config
from interfaces.oidc_settings import OidcClientSettings
from interfaces.settings import SettingsError

ENV = {
    "SLUICE_OIDC_ISSUER": "https://accounts.google.com/",
    "SLUICE_OIDC_CLIENT_ID": "1234.apps.googleusercontent.com",
    "SLUICE_OIDC_CLIENT_SECRET": "GOCSPX-secret",
}
TABLE = """
[[oidc.providers]]
id = "slack"
name = "Slack"
issuer = "https://slack.com"
client_id = "1234.5678"
client_secret_env = "SLUICE_SLACK_SECRET"
"""


def _parse(text: str, env: dict[str, str]) -> tuple[OidcClientSettings, ...]:
    return parse_config(tomllib.loads(text), env).oidc_providers


def _refused(text: str, env: dict[str, str], *words: str) -> None:
    with pytest.raises(SettingsError) as caught:
        _parse(text, env)
    for word in words:
        assert word in str(caught.value)


def test_no_provider_by_default() -> None:
    assert _parse("", {}) == ()
    assert load_config(None, {}).oidc_providers == ()


def test_one_provider_from_the_environment() -> None:
    (client,) = load_config(None, ENV).oidc_providers
    assert client == OidcClientSettings(
        "sso", "Single sign-on", "https://accounts.google.com", "1234.apps.googleusercontent.com", "GOCSPX-secret"
    )
    assert _parse("", {**ENV, "SLUICE_OIDC_NAME": "Club Google"})[0].name == "Club Google"


def test_the_secret_never_shows_in_a_repr() -> None:
    assert "GOCSPX-secret" not in repr(load_config(None, ENV))


@pytest.mark.parametrize("missing", sorted(ENV))
def test_the_environments_provider_needs_all_three(missing: str) -> None:
    env = {k: v for k, v in ENV.items() if k != missing}
    _refused("", env, missing)


def test_providers_from_the_file_take_their_secret_from_the_environment() -> None:
    clients = _parse(TABLE, {**ENV, "SLUICE_SLACK_SECRET": "xoxs"})
    assert [c.id for c in clients] == ["sso", "slack"]
    assert clients[1] == OidcClientSettings("slack", "Slack", "https://slack.com", "1234.5678", "xoxs")


def test_a_secret_in_the_file_is_refused() -> None:
    _refused(TABLE + 'client_secret = "oops"\n', {"SLUICE_SLACK_SECRET": "x"}, "never goes in the file")


def test_an_unset_secret_variable_is_named() -> None:
    _refused(TABLE, {}, "SLUICE_SLACK_SECRET", "oidc.providers[0]")


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (('id = "slack"', 'id = "Slack Login"'), ("id must be",)),
        (('issuer = "https://slack.com"', 'issuer = "http://slack.com"'), ("https",)),
        (('issuer = "https://slack.com"', 'issuer = "slack.com"'), ("https",)),
        (('client_id = "1234.5678"', 'client_id = ""'), ("client_id",)),
        (('name = "Slack"', 'label = "Slack"'), ("unknown key 'label'",)),
    ],
)
def test_a_bad_table_is_refused_naming_what_is_wrong(change: tuple[str, str], words: tuple[str, ...]) -> None:
    _refused(TABLE.replace(*change), {"SLUICE_SLACK_SECRET": "x"}, *words)


def test_plain_http_only_to_this_machine() -> None:
    env = {"SLUICE_SLACK_SECRET": "x"}
    local = TABLE.replace('issuer = "https://slack.com"', 'issuer = "http://127.0.0.1:9400"')
    assert _parse(local, env)[0].issuer == "http://127.0.0.1:9400"
    _refused("", {**ENV, "SLUICE_OIDC_ISSUER": "http://id.example.org"}, "SLUICE_OIDC_ISSUER")


def test_ids_must_differ() -> None:
    env = {"SLUICE_SLACK_SECRET": "x"}
    _refused(TABLE + TABLE, env, "'slack'")
    _refused(TABLE.replace('id = "slack"', 'id = "sso"'), {**ENV, **env}, "'sso'")


def test_the_name_defaults_to_the_id() -> None:
    assert _parse(TABLE.replace('name = "Slack"\n', ""), {"SLUICE_SLACK_SECRET": "x"})[0].name == "slack"


def test_oidc_is_an_array_of_tables() -> None:
    _refused('[oidc]\nproviders = "google"\n', {}, "array of tables")
    _refused('[oidc]\nprovider = []\n', {}, "providers")
