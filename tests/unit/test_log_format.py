"""Log lines are JSON objects (or text), with the request log's fields, and never a secret."""

import json
import logging

from interfaces.logging_setup import JsonFormatter, TextFormatter


def _record(msg: str, fields: dict | None = None, exc: bool = False) -> logging.LogRecord:
    record = logging.LogRecord("sluice.request", logging.INFO, __file__, 1, msg, (), None)
    if fields is not None:
        record.fields = fields
    if exc:
        try:
            raise RuntimeError("boom with sk-sluice-abcdefghijklmnop")
        except RuntimeError:
            import sys

            record.exc_info = sys.exc_info()
    return record


def test_a_line_is_one_json_object_with_the_fields() -> None:
    line = JsonFormatter().format(_record("request", {"request_id": "req_1", "status": 200, "model": None}))
    assert "\n" not in line
    parsed = json.loads(line)
    assert parsed["message"] == "request" and parsed["level"] == "info" and parsed["logger"] == "sluice.request"
    assert parsed["request_id"] == "req_1" and parsed["status"] == 200
    assert parsed["time"].endswith("Z")


def test_secrets_are_masked_in_the_message_and_the_traceback() -> None:
    line = JsonFormatter().format(_record("key sk-sluice-0123456789abcdef used", exc=True))
    assert "0123456789abcdef" not in line and "abcdefghijklmnop" not in line
    parsed = json.loads(line)
    assert "sk-sluice-***" in parsed["message"] and "RuntimeError" in parsed["exception"]


def test_text_lines_append_the_fields() -> None:
    line = TextFormatter("%(levelname)s %(name)s: %(message)s").format(
        _record("request", {"request_id": "req_1", "status": 429, "plan": None})
    )
    assert line == "INFO sluice.request: request request_id=req_1 status=429"
