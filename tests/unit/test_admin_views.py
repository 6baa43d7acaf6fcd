"""How the console words an audit entry's before and after, and reads an admin's typed amounts."""

import pytest

from domain.audit import Actor, AuditAction, audit_entry
from domain.errors import InvalidRequest
from domain.plans import Period, SpendCapOverride
from interfaces.admin_input import parse_dollars, parse_spend_cap, spend_cap_text
from interfaces.web.admin.views import Change, changes
from tests.fakes.memory import EPOCH


def _entry(before, after):  # type: ignore[no-untyped-def]
    return audit_entry(Actor.cli(), AuditAction.ACCOUNT_SPEND_CAPS, "acct_1", EPOCH, before=before, after=after)


def test_money_periods_and_limits_read_as_people_read_them():
    caps = _entry({"spend_caps": {"day": 2_000_000}}, {"spend_caps": {"day": None, "month": 3_000_000}})
    assert changes(caps) == [
        Change("spend caps (day)", "$2.00", "no cap"),
        Change("spend caps (month)", "plan's", "$3.00"),
    ]
    grant = _entry({"balance_micros": 0}, {"balance_micros": 5_000_000, "idempotency_key": "k"})
    assert changes(grant) == [Change("balance", "$0.00", "$5.00"), Change("idempotency key", "", "k")]
    chat = {"name": "chat", "requests": 5, "window_seconds": 60.0, "subject": "key", "endpoints": ["chat"]}
    limits = _entry({"rate_limits": []}, {"rate_limits": [chat]})
    assert changes(limits) == [Change("rate limits", "the plan's", "chat=5/1m per key")]


def test_typed_amounts_and_caps():
    assert parse_dollars("$12.50") == 12_500_000
    with pytest.raises(InvalidRequest, match="finer than a micro-dollar"):
        parse_dollars("0.0000001")
    assert parse_spend_cap(Period.DAY, " 5 ") == SpendCapOverride(Period.DAY, 5_000_000)
    assert parse_spend_cap(Period.DAY, "None") == SpendCapOverride(Period.DAY, None)
    assert parse_spend_cap(Period.DAY, "plan") is None
    assert parse_spend_cap(Period.WEEK, "", blank_is_plan=True) is None
    with pytest.raises(InvalidRequest, match="weekly cap wants dollars"):
        parse_spend_cap(Period.WEEK, "-3")
    for override in (SpendCapOverride(Period.DAY, 5_000_000), SpendCapOverride(Period.DAY, 1_500), None):
        text = spend_cap_text(override)
        assert parse_spend_cap(Period.DAY, text, blank_is_plan=True) == override
    assert spend_cap_text(SpendCapOverride(Period.DAY, None)) == "none"
