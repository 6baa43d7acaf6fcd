"""Metric labels for models: bounded by the operator's configuration, whatever model ids clients send."""

from application.observation import Observation
from infrastructure.telemetry.model_labels import OTHER, ModelLabels
from infrastructure.telemetry.prometheus import PrometheusTelemetry

CATALOGUE = {"openai/gpt-4o-mini", "qwen/qwen3-32b", "anthropic/claude-3.5-sonnet"}


def test_catalogued_and_allowed_ids_are_their_own_labels() -> None:
    labels = ModelLabels(CATALOGUE.__contains__, frozenset({"my/private-model"}), 10)
    assert labels("qwen/qwen3-32b") == "qwen/qwen3-32b"
    assert labels("my/private-model") == "my/private-model"


def test_client_chosen_ids_are_other() -> None:
    labels = ModelLabels(CATALOGUE.__contains__, None, 10)
    for model in ("openrouter/auto", "@preset/mine", "qwen/qwen3-32b:free", "x" * 1000, ""):
        assert labels(model) == OTHER
    assert labels.admitted == 0


def test_at_most_max_models_distinct_labels() -> None:
    labels = ModelLabels(CATALOGUE.__contains__, None, 2)
    assert labels("openai/gpt-4o-mini") == "openai/gpt-4o-mini"
    assert labels("qwen/qwen3-32b") == "qwen/qwen3-32b"
    assert labels("anthropic/claude-3.5-sonnet") == OTHER
    assert labels("openai/gpt-4o-mini") == "openai/gpt-4o-mini"  # admitted ones keep their label


def test_an_id_the_catalogue_lists_later_gets_its_label() -> None:
    listed: set[str] = set()
    labels = ModelLabels(listed.__contains__, None, 5)
    assert labels("qwen/qwen3-32b") == OTHER
    listed.add("qwen/qwen3-32b")
    assert labels("qwen/qwen3-32b") == "qwen/qwen3-32b"


def test_zero_means_every_model_is_other() -> None:
    labels = ModelLabels(CATALOGUE.__contains__, frozenset(CATALOGUE), 0)
    assert labels("qwen/qwen3-32b") == OTHER


def test_the_exposition_holds_only_bounded_model_labels() -> None:
    telemetry = PrometheusTelemetry()
    telemetry.label_models(ModelLabels(CATALOGUE.__contains__, None, 100))
    for n in range(300):
        telemetry.report(_answered(f"openrouter/x-{n}", 404))
        telemetry.report(_answered(f"@preset/{n}", 404))
    telemetry.report(_answered("qwen/qwen3-32b", 200))
    page = telemetry.page()[0].decode()
    models = {line.split('model="')[1].split('"')[0] for line in page.splitlines() if 'model="' in line}
    assert models == {OTHER, "qwen/qwen3-32b"}
    assert 'sluice_requests_total{endpoint="chat",family="openai",model="other",plan="free",status="404"} 600.0' in page


def _answered(model: str, status: int) -> Observation:
    o = Observation("openai", "chat", "req_1")
    o.model, o.plan = model, "free"
    o.head_sent(status)
    return o
