"""Bar charts drawn on the server as SVG with pygal: nothing for the browser to load, no script to run.

pygal always writes a `<script>` with its configuration into the SVG (for its optional tooltip
script, which we do not ship); inline SVG would run it in the page, so it is taken out. What the
tooltips would have said goes into a `<title>` on each bar, which browsers show on hover and
screen readers read. The chart as a whole is an image named by its `<title>` and described by its
`<desc>`; the page puts the same figures in a table beside it.
"""

import itertools
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pygal
from markupsafe import Markup
from pygal.style import Style

_ids = itertools.count(1)

# Okabe-Ito colours (told apart with every common colour-vision deficiency), dark enough on white.
_COLORS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#4a4a4a")
STYLE = Style(
    background="#ffffff",
    plot_background="#ffffff",
    foreground="#1a1a1a",
    foreground_strong="#1a1a1a",
    foreground_subtle="#4a4a4a",
    guide_stroke_color="#d0d0d0",
    major_guide_stroke_color="#b0b0b0",
    colors=_COLORS,
    font_family="system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif",
    label_font_size=13,
    major_label_font_size=13,
    legend_font_size=14,
    title_font_size=18,
    opacity="0.9",
    opacity_hover="1",
    transition="0s",
)


@dataclass(frozen=True, slots=True)
class Series:
    name: str
    values: list[int]


@dataclass(frozen=True, slots=True)
class Chart:
    """One chart and its figures: the template draws `svg` and lays `labels` x `series` out as a table."""

    id: str
    title: str
    description: str
    labels: list[str]
    series: list[Series]
    format: Callable[[int], str]
    svg: Markup

    def rows(self) -> list[tuple[str, list[str], str]]:
        """Per label: its formatted values, one per series, and their total."""
        return [
            (label, [self.format(s.values[i]) for s in self.series], self.format(sum(s.values[i] for s in self.series)))
            for i, label in enumerate(self.labels)
        ]


def bar_chart(
    title: str,
    description: str,
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    format: Callable[[int], str] = "{:,}".format,
    horizontal: bool = False,
    label_every: int = 1,
) -> Chart:
    """Stacked bars, one per label; `label_every` thins the axis labels of long ranges (days)."""
    kind = pygal.HorizontalStackedBar if horizontal else pygal.StackedBar
    chart = kind(
        js=[],  # pygal's default is a tooltip script from a CDN: nothing is loaded from elsewhere
        style=STYLE,
        title=title,
        width=800,
        height=max(220, 90 + 34 * len(labels)) if horizontal else 360,
        x_labels_major_every=label_every if label_every > 1 else None,
        show_minor_x_labels=label_every <= 1,
        truncate_label=-1,
        show_legend=len(series) > 1,
        legend_at_bottom=True,
        legend_at_bottom_columns=3,
        truncate_legend=40,
        value_formatter=lambda value: format(round(value)),  # pygal hands axis ticks over as floats
        order_min=0,  # ticks at whole units at the finest: no 0.5 request, no half micro-dollar
        print_values=False,
        margin=12,
        margin_bottom=36,  # pygal sizes the bottom legend for its own smaller font: room for ours
        disable_xml_declaration=True,
        no_data_text="No requests in this range",
        include_x_axis=True,
    )
    # Horizontal bars are drawn bottom up: reversed, the first label reads at the top, as in the table.
    order = slice(None, None, -1) if horizontal else slice(None)
    chart.x_labels = list(labels)[order]
    for s in series:
        chart.add(s.name, [value or None for value in s.values][order])  # None: no empty sliver for a zero
    chart_id = f"chart-{next(_ids)}"
    svg = _accessible(chart, chart_id, title, description, [s.name for s in series], format(0))
    return Chart(chart_id, title, description, list(labels), list(series), format, svg)


def _accessible(
    chart: pygal.graph.graph.Graph, chart_id: str, title: str, description: str, names: list[str], zero: str
) -> Markup:
    root = chart.render_tree()
    for parent in root.iter():
        for child in list(parent):
            if child.tag in ("script", ET.Comment):
                parent.remove(child)
    for group in root.iter("g"):
        classes = (group.get("class") or "").split()
        if "series" in classes:
            index = next((int(c[6:]) for c in classes if c.startswith("serie-") and c[6:].isdigit()), 0)
            _title_bars(group, names[index] if len(names) > 1 and index < len(names) else None, zero)
    root.set("role", "img")
    root.set("aria-labelledby", f"{chart_id}-title {chart_id}-desc")
    name, desc = ET.Element("title", id=f"{chart_id}-title"), ET.Element("desc", id=f"{chart_id}-desc")
    name.text, desc.text = title, description
    root.insert(0, desc)
    root.insert(0, name)
    return Markup(ET.tostring(root, encoding="unicode"))  # noqa: S704 - serialized from an element tree: escaped


def _title_bars(series: ET.Element, series_name: str | None, zero: str) -> None:
    """What pygal's tooltip script would show, as each bar's own `<title>`: label, series, value."""
    for bar in series.iter("g"):
        if "bar" not in (bar.get("class") or "").split():
            continue
        found = {d.get("class"): d.text for d in bar.iter("desc")}
        if found.get("value") in (None, zero):
            continue  # a day without calls of this series: pygal still draws it, with no height
        hint = ET.Element("title")
        hint.text = " · ".join(part for part in (found.get("x_label"), series_name, found["value"]) if part)
        bar.insert(0, hint)
