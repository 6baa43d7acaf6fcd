"""One request's observation: reported once, after both its answer and its settlement."""

from application.observation import Observation


def _reports() -> tuple[list[Observation], Observation]:
    seen: list[Observation] = []
    return seen, Observation("openai", "chat", "req_1", seen.append)


def _settle(o: Observation, tokens: int = 3) -> None:
    o.settled(outcome="ok", prompt_tokens=tokens, completion_tokens=1, cost_micros=10, charged_micros=12)


def test_an_unadmitted_request_is_reported_when_answered() -> None:
    seen, o = _reports()
    o.head_sent(401)
    assert seen == []
    o.finished()
    assert seen == [o] and o.status == 401


def test_an_admitted_request_waits_for_its_settlement_whichever_comes_last() -> None:
    seen, o = _reports()
    o.admitted()
    o.head_sent(200)
    o.finished()
    assert seen == []  # the settlement runs beside the response
    _settle(o)
    assert seen == [o] and (o.prompt_tokens, o.charged_micros, o.outcome) == (3, 12, "ok")

    seen, o = _reports()
    o.admitted()
    _settle(o)
    assert seen == []
    o.head_sent(200)
    o.finished()
    assert seen == [o]


def test_it_is_reported_once_whatever_repeats() -> None:
    seen, o = _reports()
    o.finished()
    o.finished()
    assert len(seen) == 1


def test_the_request_id_goes_to_the_first_admission_only() -> None:
    _, o = _reports()
    assert o.take_request_id() == "req_1"
    assert o.take_request_id() is None


def test_overhead_is_the_time_to_the_head_not_spent_on_the_upstream() -> None:
    _, o = _reports()
    o.started = 10.0
    o.upstream_began, o.upstream_ended = 10.001, 10.101
    o.head_at = 10.1015
    assert abs(o.head_seconds - 0.1015) < 1e-9
    assert abs(o.upstream_seconds - 0.100) < 1e-9  # type: ignore[operator]
    assert abs(o.overhead_seconds - 0.0015) < 1e-9


def test_without_an_upstream_call_everything_is_overhead() -> None:
    _, o = _reports()
    o.started, o.head_at = 5.0, 5.002
    assert o.upstream_seconds is None
    assert abs(o.overhead_seconds - 0.002) < 1e-9
