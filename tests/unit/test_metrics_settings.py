"""SLUICE_METRICS_MAX_MODELS: read and checked like the other settings."""

from pathlib import Path

import pytest

from interfaces.settings import SettingsError, load_settings


def settings_with(tmp_path: Path, **env: str):  # type: ignore[no-untyped-def]
    base = {"SLUICE_DATA_DIR": str(tmp_path), "SLUICE_UPSTREAM_URL": "http://127.0.0.1:9/api/v1"}
    return load_settings({**base, **env})


def test_the_default_is_100(tmp_path: Path) -> None:
    assert settings_with(tmp_path).metrics_max_models == 100


@pytest.mark.parametrize("value", ["0", "7", "10000"])
def test_a_value_in_range_is_taken(tmp_path: Path, value: str) -> None:
    assert settings_with(tmp_path, SLUICE_METRICS_MAX_MODELS=value).metrics_max_models == int(value)


@pytest.mark.parametrize(("value", "said"), [("-1", "between 0 and 10000"), ("10001", "between"), ("many", "integer")])
def test_a_bad_value_stops_the_start_with_its_name(tmp_path: Path, value: str, said: str) -> None:
    with pytest.raises(SettingsError, match="SLUICE_METRICS_MAX_MODELS") as error:
        settings_with(tmp_path, SLUICE_METRICS_MAX_MODELS=value)
    assert said in str(error.value)
