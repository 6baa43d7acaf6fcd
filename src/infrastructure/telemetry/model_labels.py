"""Which model ids may become a metric label: clients choose model ids, the operator bounds the series.

A label is a series in every scrape for as long as the process lives, so a client sending
``@preset/N`` or ``openrouter/x-N`` for N up to 300 made 2,400 series. An id is its own label only
when the operator allows it (the gateway's allow-list) or the upstream's catalogue lists it, and only
for the first ``max_models`` such ids; every other id is the label ``other``.
"""

from collections.abc import Callable

OTHER = "other"


class ModelLabels:
    """``labels(model_id)`` is the label to count ``model_id`` under.

    ``listed`` is a synchronous membership check on the loaded catalogue (it must not wait on the
    network). Admitted ids are remembered (at most ``max_models`` of them, so the lookup stays one dict
    access); refused ones are not, so that an id the catalogue lists later still gets its label, and
    so that refused ids cannot grow the memory either.
    """

    __slots__ = ("_allowed", "_labels", "_listed", "_max_models")

    def __init__(self, listed: Callable[[str], bool], allowed: frozenset[str] | None, max_models: int) -> None:
        self._listed = listed
        self._allowed = allowed or frozenset()
        self._max_models = max_models
        self._labels: dict[str, str] = {}

    def __call__(self, model_id: str) -> str:
        label = self._labels.get(model_id)
        if label is not None:
            return label
        if len(self._labels) >= self._max_models or not isinstance(model_id, str):
            return OTHER
        if model_id in self._allowed or self._listed(model_id):
            self._labels[model_id] = model_id
            return model_id
        return OTHER

    @property
    def admitted(self) -> int:
        return len(self._labels)
