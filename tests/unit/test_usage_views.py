"""How the dashboard words its figures: durations, buckets, caps, the last requests, the charts' series."""

from datetime import date, timedelta

from application.use_cases.limit_state import BucketState, CapState
from application.use_cases.usage_dashboard import UsageReport
from domain.keys import issue_key
from domain.plans import Endpoint, Period, RatePolicy, SpendCap, Subject
from domain.rate_policy import Decision
from domain.usage import Outcome, UsageRecord, UsageTotals
from interfaces.web.usage_views import bucket_row, cap_row, duration, record_row, usage_charts
from tests.fakes.memory import EPOCH


def test_durations_round_up_to_what_a_reader_needs():
    assert [duration(s) for s in (0, 0.2, 59.1, 60, 61, 3599, 3600, 3660, 7200)] == [
        "0 s", "1 s", "1 min", "1 min", "2 min", "1 h", "1 h", "1 h 1 min", "2 h",
    ]  # fmt: skip


def test_a_bucket_says_who_is_counted_and_when_it_is_full_again():
    key = issue_key("acct_1", "laptop", b"p", EPOCH, active_keys=0).key
    per_key = RatePolicy("chat", frozenset({Endpoint.CHAT, Endpoint.EMBEDDINGS}), 3, 3600, Subject.KEY)
    state = Decision(False, 3, 0, 3600.0, 1200.0)
    row = bucket_row(BucketState(per_key, state, EPOCH + timedelta(hours=1), key=key))
    assert row["counted"] == f"key “laptop” ({key.prefix}…)"
    assert (row["limit"], row["remaining"], row["allowed"], row["next"]) == ("3 per 1h", "0", False, "in 20 min")
    assert row["reset"] == "full in 1 h (13:00:00 UTC)" and row["endpoints"] == "chat, embeddings"
    moderations = RatePolicy("moderations", frozenset({Endpoint.MODERATIONS}), 300, 60)
    fresh = bucket_row(BucketState(moderations, Decision(True, 300, 300, 0.0, 0.0), EPOCH))
    assert (fresh["counted"], fresh["reset"], fresh["endpoints"], fresh["next"]) == (
        "your account",
        "full now",
        "",
        "now",
    )
    per_ip = RatePolicy("per-ip", frozenset(Endpoint), 60, 60, Subject.IP)
    assert bucket_row(BucketState(per_ip, state, EPOCH, ip="203.0.113.9"))["counted"] == "your address 203.0.113.9"


def test_a_cap_reached_says_so():
    row = cap_row(CapState(SpendCap(Period.DAY, 10), 25, EPOCH))
    assert (row["period"], row["limit"], row["spent"], row["remaining"], row["reached"]) == (
        "daily", "$0.00001", "$0.000025", "$0.00", True,
    )  # fmt: skip


def test_a_failed_request_shows_its_outcome():
    record = UsageRecord("r", "a", "k", "chat", "m", Outcome.UPSTREAM_ERROR, 502, 0, 0, 0, 0, 40, True, EPOCH)
    row = record_row(record, {"k": "laptop"})
    assert (row["status"], row["ok"], row["key"], row["cost"], row["latency"], row["streamed"]) == (
        "502 (upstream error)", False, "laptop", "$0.00", "40 ms", True,
    )  # fmt: skip
    assert record_row(record, {})["key"] == "k"  # a key gone from the listing: its id


def test_the_charts_stack_the_top_models_and_the_rest_as_one():
    days = [date(2025, 1, 14), date(2025, 1, 15)]
    models = [f"m{i}" for i in range(8)]
    cells = {(days[1], m): UsageTotals(i + 1, 10, 5, 0, 100 * (i + 1)) for i, m in enumerate(models)}
    report = UsageReport(
        days=days,
        per_day=[UsageTotals(), UsageTotals(36, 80, 40, 0, 3_600)],
        models=models,
        per_model=[cells[days[1], m] for m in models],
        cells=cells,
        total=UsageTotals(36, 80, 40, 0, 3_600),
        recent=[],
        key_names={},
        limits=None,  # type: ignore[arg-type]
        since=EPOCH,
    )
    charts = usage_charts(report)
    requests = charts["per_day"][0]
    assert [s.name for s in requests.series] == [*models[:6], "2 other models"]
    assert requests.series[-1].values == [0, 7 + 8]
    assert requests.rows()[1][2] == "36"
    titles = [c.title for c in charts["per_day"] + charts["per_model"]]
    assert titles == [f"{what} per {by}" for by in ("day", "model") for what in ("Requests", "Tokens", "Cost")]
    assert charts["per_day"][2].rows()[1][2] == "$0.0036"


def test_an_account_without_requests_gets_charts_that_say_so():
    report = UsageReport(
        days=[date(2025, 1, 14)],
        per_day=[UsageTotals()],
        models=[],
        per_model=[],
        cells={},
        total=UsageTotals(),
        recent=[],
        key_names={},
        limits=None,  # type: ignore[arg-type]
        since=EPOCH,
    )
    charts = usage_charts(report)
    assert all("No requests in this range" in str(c.svg) for c in charts["per_day"] + charts["per_model"])
    assert charts["per_day"][2].rows() == [("2025-01-14", ["$0.00"], "$0.00")]
    assert charts["per_model"][0].rows() == []
