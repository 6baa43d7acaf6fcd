"""ClientPolicy: blocked clients by the headers they name themselves in."""

import pytest

from domain.client_policy import IDENTIFYING_HEADERS, ClientPolicy
from domain.errors import ClientBlocked, DomainError, InvalidRequest
from interfaces.wording import describe

AGENTS = ClientPolicy(("Cursor", "Cline", "Roo-Code", "claude-cli", "Codex"))


def test_an_empty_policy_blocks_nothing() -> None:
    sut = ClientPolicy()
    assert not sut.enabled
    assert sut.match("Cursor/1.0", "https://cursor.sh") is None


@pytest.mark.parametrize(
    ("headers", "entry"),
    [
        (("Cursor/0.42.3",), "Cursor"),
        (("CURSOR",), "Cursor"),  # case-insensitive
        (("Mozilla/5.0 cursor-agent",), "Cursor"),  # a substring
        (("python-httpx/0.28", None, "https://cline.bot", "Cline"), "Cline"),
        ((None, "https://example.org/roo-code/setup"), "Roo-Code"),
        (("claude-cli/1.0.83 (external, cli)",), "claude-cli"),
        (("", "", "", "Codex"), "Codex"),
    ],
)
def test_a_blocked_client_is_named_by_its_entry_as_configured(headers: tuple[str | None, ...], entry: str) -> None:
    assert AGENTS.match(*headers) == entry


@pytest.mark.parametrize(
    "headers",
    [
        (),
        (None, None, None, None),
        ("", ""),
        ("OpenAI/Python 1.99.0", None, "https://myapp.example", "My App"),
        ("curl/8.5.0",),
        ("Cur", "sor"),  # not across headers
        ("claude cli",),
    ],
)
def test_others_pass(headers: tuple[str | None, ...]) -> None:
    assert AGENTS.match(*headers) is None


def test_the_first_entry_in_the_configured_order_is_named() -> None:
    assert ClientPolicy(("Code", "Roo-Code")).match("roo-code/3") == "Code"
    assert ClientPolicy(("Roo-Code", "Code")).match("roo-code/3") == "Roo-Code"


def test_entries_are_trimmed_and_duplicates_dropped() -> None:
    sut = ClientPolicy((" Cursor ", "cursor"))
    assert sut.match("cursor") == "Cursor"
    assert sut.blocked == (" Cursor ", "cursor")  # as given; matching uses the cleaned entries


@pytest.mark.parametrize("entry", ["", "   ", "bad\nentry", "tab\there"])
def test_an_entry_that_would_match_everything_or_span_headers_is_refused(entry: str) -> None:
    with pytest.raises(InvalidRequest):
        ClientPolicy(("Cursor", entry))


def test_the_identifying_headers() -> None:
    assert IDENTIFYING_HEADERS == ("user-agent", "referer", "http-referer", "x-title")


def test_client_blocked_carries_the_entry() -> None:
    sut = ClientBlocked("Cursor")
    assert isinstance(sut, DomainError)
    assert (sut.code, sut.entry) == ("client_blocked", "Cursor")
    assert "Cursor" in describe(sut)
