"""Text from data shows in a chart as typed, never as markup.

Plotly draws a small HTML subset inside any text it renders (tick labels, legend names,
titles, facet titles, hover text): a category value such as `<a href="http://…">here</a>`
would become a clickable link to another site. Every string a figure draws has `<` and `>`
written as entities, which Plotly shows as the characters themselves; our own hover
templates are built from escaped labels (`plotly_text`)."""

from collections.abc import Iterable
from typing import Any

import plotly.graph_objects as go

_MARKUP = str.maketrans({"<": "&lt;", ">": "&gt;"})
_TRACE_TEXT = ("x", "y", "text", "hovertext", "labels", "ids")


def plotly_text(value: Any) -> Any:
    """`value` with `<` and `>` as entities when it is a string; anything else as it is."""
    return value.translate(_MARKUP) if isinstance(value, str) else value


def _has_markup(values: Iterable[Any]) -> bool:
    return any(isinstance(v, str) and ("<" in v or ">" in v) for v in values)


def _cleaned(values: Any) -> Any:
    if values is None or isinstance(values, str):
        return plotly_text(values)
    try:
        items = list(values)
    except TypeError:
        return values
    return [plotly_text(v) for v in items] if _has_markup(items) else values


def plain_figure_text(fig: go.Figure) -> go.Figure:
    """Escape the markup characters in every data-derived string the figure draws."""
    for trace in fig.data:
        for attr in _TRACE_TEXT:
            if attr in trace and trace[attr] is not None:
                cleaned = _cleaned(trace[attr])
                if cleaned is not trace[attr]:
                    trace[attr] = cleaned
        if isinstance(trace.name, str):
            trace.name = plotly_text(trace.name)
    layout = fig.layout
    if layout.title.text:
        layout.title.text = plotly_text(layout.title.text)
    if layout.legend.title.text:
        layout.legend.title.text = plotly_text(layout.legend.title.text)
    for annotation in layout.annotations:
        annotation.text = plotly_text(annotation.text)

    def axis(ax: Any) -> None:
        if ax.title.text:
            ax.title.text = plotly_text(ax.title.text)
        for attr in ("categoryarray", "ticktext"):
            if ax[attr] is not None:
                ax[attr] = _cleaned(ax[attr])

    fig.for_each_xaxis(axis)
    fig.for_each_yaxis(axis)
    return fig
