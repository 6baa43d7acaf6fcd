"""The server-drawn charts: self-contained SVG (no script, nothing from elsewhere), named and described
for screen readers, a hover title per bar, and the same figures for the table beside them."""

import re
import xml.etree.ElementTree as ET

from domain.credits import usd_text
from interfaces.web.charts import Series, bar_chart

DAYS = ["2025-01-14", "2025-01-15", "2025-01-16"]


def test_the_svg_is_self_contained_and_runs_nothing():
    chart = bar_chart(
        "Requests per day", "Requests per UTC day.", DAYS, [Series("a/m", [1, 0, 2]), Series("b/m", [3, 0, 0])]
    )

    svg = str(chart.svg)
    root = ET.fromstring(svg)  # noqa: S314 - our own output: well-formed, one element
    assert root.tag.endswith("svg")
    assert "<script" not in svg and "pygal.config" not in svg
    assert not re.search(r'(?:href|src)\s*=\s*"(?!#)', svg)
    assert "@import" not in svg and not re.search(r"url\((?!#)", svg)
    assert "<!--" not in svg  # pygal's comments (with its web addresses) are gone too


def test_the_chart_is_an_image_named_and_described_for_screen_readers():
    chart = bar_chart(
        "Tokens per day", "Prompt and completion tokens per UTC day.", DAYS, [Series("prompt", [5, 6, 7])]
    )

    svg = str(chart.svg)
    assert f'role="img" aria-labelledby="{chart.id}-title {chart.id}-desc"' in svg
    assert re.search(rf'^<svg[^>]*><title id="{chart.id}-title">Tokens per day</title><desc id="{chart.id}-desc">', svg)
    assert "Prompt and completion tokens per UTC day.</desc>" in svg


def test_each_bar_says_its_label_series_and_value_and_empty_ones_say_nothing():
    chart = bar_chart(
        "Cost per day", "d", DAYS, [Series("a/m", [1_500, 0, 20]), Series("b/m", [0, 0, 7])], format=usd_text
    )

    titles = re.findall(r"<title>([^<]*)</title>", str(chart.svg))
    bars = [t for t in titles if t.startswith("2025-")]
    assert bars == ["2025-01-14 · a/m · $0.0015", "2025-01-16 · a/m · $0.00002", "2025-01-16 · b/m · $0.000007"]
    assert chart.rows() == [
        ("2025-01-14", ["$0.0015", "$0.00"], "$0.0015"),
        ("2025-01-15", ["$0.00", "$0.00"], "$0.00"),
        ("2025-01-16", ["$0.00002", "$0.000007"], "$0.000027"),
    ]


def test_a_single_series_needs_no_name_on_its_bars_and_horizontal_bars_read_top_down():
    chart = bar_chart("Requests per model", "d", ["first", "second"], [Series("requests", [9, 4])], horizontal=True)

    svg = str(chart.svg)
    assert "<title>first · 9</title>" in svg and "<title>second · 4</title>" in svg
    labels = re.findall(r'<text x="[^"]+" y="([^"]+)" class="[^"]*">(first|second)</text>', svg)
    by_name = {name: float(y) for y, name in labels}
    assert by_name["first"] < by_name["second"]  # drawn higher: the table's order
    assert chart.rows() == [("first", ["9"], "9"), ("second", ["4"], "4")]


def test_ids_differ_so_several_charts_share_a_page():
    one, two = (bar_chart("t", "d", DAYS, [Series("s", [1, 2, 3])]) for _ in range(2))
    assert one.id != two.id
