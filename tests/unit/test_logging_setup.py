"""Logs never carry a secret: the whole formatted line is masked, tracebacks and stack info included."""

import io
import logging
from collections.abc import Iterator

import pytest

from interfaces.logging_setup import configure_logging, mask_secrets

SLUICE_KEY = "sk-sluice-AbCdEf0123456789_secret-part"
OPENROUTER_KEY = "sk-or-v1-fake-test-key-not-a-secret"


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """What `configure_logging`'s own handler writes (it is pointed at a buffer instead of stderr)."""
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    configure_logging("info")
    buffer = io.StringIO()
    for handler in root.handlers:
        assert isinstance(handler, logging.StreamHandler)
        handler.setStream(buffer)
    try:
        yield buffer
    finally:
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)


def test_a_key_inside_an_exception_is_masked_in_the_traceback(captured: io.StringIO) -> None:
    log = logging.getLogger("sluice.test")
    try:
        raise ValueError(f"upstream rejected {OPENROUTER_KEY} for {SLUICE_KEY}")
    except ValueError:
        log.exception("call failed")
    text = captured.getvalue()
    assert "Traceback" in text and "ValueError: upstream rejected sk-or-v1-*** for sk-sluice-***" in text
    assert OPENROUTER_KEY not in text and SLUICE_KEY not in text
    assert "secret-part" not in text


def test_stack_info_and_arguments_are_masked(captured: io.StringIO) -> None:
    logging.getLogger("sluice.test").warning("key %s seen", SLUICE_KEY, stack_info=True)
    text = captured.getvalue()
    assert "key sk-sluice-*** seen" in text and "Stack (most recent call last)" in text
    assert SLUICE_KEY not in text


def test_exc_info_from_another_logger_is_masked(captured: io.StringIO) -> None:
    error = ConnectionError("could not reach postgresql://gateway:hunter2@db.internal:5432/sluice")
    logging.getLogger("sqlalchemy.pool").error("pool failure", exc_info=error)
    text = captured.getvalue()
    assert "hunter2" not in text
    assert "postgresql://gateway:***@db.internal:5432/sluice" in text


@pytest.mark.parametrize(
    ("line", "masked"),
    [
        (f"key {SLUICE_KEY}", "key sk-sluice-***"),
        (f"key {OPENROUTER_KEY}.", "key sk-or-v1-***."),
        ("sk-proj-abcdefghijkl", "sk-***"),
        ("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.payload.sig", "Authorization: Bearer ***"),
        ("authorization: bearer abcdefgh1234/+=", "authorization: bearer ***"),
        ("postgresql+asyncpg://sluice:s3cr3t@10.0.0.5:5432/sluice", "postgresql+asyncpg://sluice:***@10.0.0.5:5432/sluice"),
        ("redis://:s3cr3t@cache:6379/0", "redis://:***@cache:6379/0"),
        ("rediss://default:p%40ss@cache:6380", "rediss://default:***@cache:6380"),
        ("redis://127.0.0.1:6379/10", "redis://127.0.0.1:6379/10"),  # no password: nothing to hide
        ("https://openrouter.ai/api/v1", "https://openrouter.ai/api/v1"),
        ("sk-short", "sk-short"),
    ],
)
def test_what_is_masked(line: str, masked: str) -> None:
    assert mask_secrets(line) == masked
    assert mask_secrets(masked) == masked
