"""A chart of an Ask result (a small DataFrame already in memory) from a validated ChartSpec.

Explore's `chart_figure.build_figure` draws `ChartData` that `services.charts.aggregate` aggregates
from a Parquet file; an Ask result is a few thousand rows at most, so it is aggregated here
with vectorized pandas and drawn with the same palette rules: the shared series colours, plus marker
shapes, dash or bar patterns, transparent backgrounds (light and dark themes), a title, axis
labels and a one-sentence summary that doubles as alt text.
"""

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
from pydantic import BaseModel, ConfigDict

from services.charts.chart_figure import outline_markers, rank_phrase, spec_title
from services.charts.figure_text import plain_figure_text
from services.charts.palette import (
    BAR_PATTERNS,
    DASH_PATTERNS,
    DIVERGING_SCALE,
    GRID_COLOR,
    MARKER_SYMBOLS,
    SEQUENTIAL_SCALE,
    SINGLE_COLOR,
    color_map,
    style_map,
)
from services.charts.spec import (
    AGG_NAMES,
    BAR_TYPES,
    CHART_NAMES,
    ChartSpec,
    as_drawn,
    can_log_x,
)
from services.charts.suggestion import values_as_they_are

MAX_POINTS = 10_000
MAX_GROUPS = 50
_PANDAS_AGG = {"count": "count", "sum": "sum", "mean": "mean", "median": "median",
               "min": "min", "max": "max", "distinct": "nunique"}
_PERIODS = {"day": "D", "week": "W", "month": "M", "quarter": "Q", "year": "Y"}


class AskChart(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    figure: go.Figure
    title: str
    summary: str
    note: str = ""  # e.g. why averages are side by side rather than stacked


def _value_label(spec: ChartSpec, frame: pd.DataFrame) -> str:
    if spec.y is None:
        return "Number of rows"
    if values_as_they_are(frame, spec):
        return spec.y  # each row already holds its value
    return f"{AGG_NAMES[spec.agg]} of {spec.y}"


def _x_values(frame: pd.DataFrame, spec: ChartSpec) -> pd.Series:
    column = frame[spec.x]
    if spec.bucket is None:
        return column
    dates = pd.to_datetime(column, errors="coerce")
    return dates.dt.to_period(_PERIODS[spec.bucket]).dt.start_time


def _series(frame: pd.DataFrame, spec: ChartSpec) -> pd.DataFrame:
    """Rows of (x, [color,] value), aggregated, top-N and sorted as the spec says."""
    work = pd.DataFrame({"x": _x_values(frame, spec)})
    keys = ["x"]
    if spec.color:
        work["color"] = frame[spec.color].astype("string").fillna("(missing)")
        keys.append("color")
    if spec.y is None:
        grouped = work.groupby(keys, dropna=False, sort=False).size().rename("value")
    elif values_as_they_are(frame, spec):
        # one row per group already: its value is drawn as it is, whatever the spec's
        # summary says (a saved answer may still say "count", which would draw 1s)
        grouped = work.assign(value=frame[spec.y]).set_index(keys)["value"]
    else:
        work["value"] = frame[spec.y]
        grouped = work.groupby(keys, dropna=False, sort=False)["value"].agg(_PANDAS_AGG[spec.agg])
    out = grouped.reset_index()
    if spec.top_n:
        top = out.groupby("x", sort=False)["value"].sum().nlargest(spec.top_n).index
        out = out[out["x"].isin(top)]
    if spec.sort == "x" or spec.chart_type in ("line", "area"):
        return out.sort_values("x", kind="stable")
    if spec.sort in ("asc", "desc"):
        return out.sort_values("value", ascending=spec.sort == "asc", kind="stable")
    return out


def _groups(series: pd.Series) -> list[str]:
    return [str(v) for v in pd.unique(series.astype(str))]


def _series_figure(data: pd.DataFrame, spec: ChartSpec, labels: dict[str, str]) -> go.Figure:
    """One trace per colour group (graph_objects directly: a fraction of plotly express's
    cost, which matters for B7). Groups differ by colour and by pattern, dash or marker."""
    parts: list[tuple[str | None, pd.DataFrame]]
    if "color" in data:
        by_group = dict(tuple(data.groupby(data["color"].astype(str), sort=False)))
        parts = [(g, by_group[g]) for g in _groups(data["color"])[:MAX_GROUPS]]
    else:
        parts = [(None, data)]
    names = [str(g) for g, _ in parts]
    colors = color_map(names) if "color" in data else {}
    is_bar = spec.chart_type in BAR_TYPES
    traces: list[go.Bar | go.Scatter] = []
    for index, (group, part) in enumerate(parts):
        color = colors.get(str(group), SINGLE_COLOR)
        # plain lists: plotly validates a pandas Series through narwhals, 5× slower
        common = {"x": part["x"].tolist(), "y": part["value"].tolist(),
                  "name": str(group or labels["value"]), "showlegend": group is not None}
        if is_bar:
            pattern = BAR_PATTERNS[index % len(BAR_PATTERNS)] \
                if group is not None and spec.chart_type != "grouped_bar" else ""
            traces.append(go.Bar(**common, marker={"color": color,
                                                   "pattern": {"shape": pattern}}))
            continue
        traces.append(go.Scatter(
            **common, mode="lines+markers" if len(part) <= 200 else "lines",
            line={"color": color, "dash": DASH_PATTERNS[index % len(DASH_PATTERNS)]},
            marker={"symbol": MARKER_SYMBOLS[index % len(MARKER_SYMBOLS)], "color": color},
            stackgroup="one" if spec.chart_type == "area" else None))
    fig = go.Figure(data=traces)  # one validation pass, not one per add_trace
    fig.update_layout(barmode="group" if spec.chart_type == "grouped_bar" else "relative",
                      xaxis_title=labels["x"], yaxis_title=labels["value"],
                      legend_title_text=labels.get("color", ""))
    if data["x"].dtype == object or pd.api.types.is_string_dtype(data["x"]):
        fig.update_xaxes(type="category", categoryorder="array",
                         categoryarray=_groups(data["x"]))
    return fig


def _scatter(frame: pd.DataFrame, spec: ChartSpec) -> go.Figure:
    sample = frame.sample(MAX_POINTS, random_state=42) if len(frame) > MAX_POINTS else frame
    common: dict = {"color_discrete_sequence": [SINGLE_COLOR]}
    if spec.color:
        groups = _groups(sample[spec.color])
        sample = sample.assign(**{spec.color: sample[spec.color].astype(str)})
        common = {"color": spec.color, "color_discrete_map": color_map(groups),
                  "symbol": spec.color, "symbol_map": style_map(groups, MARKER_SYMBOLS)}
    return outline_markers(px.scatter(sample, x=spec.x, y=spec.y, **common))


def _other_figure(frame: pd.DataFrame, spec: ChartSpec) -> go.Figure:
    if spec.chart_type == "scatter":
        return _scatter(frame, spec)
    if spec.chart_type == "histogram":
        return px.histogram(frame, x=spec.x, color_discrete_sequence=[SINGLE_COLOR],
                            labels={"count": "Number of rows"})
    if spec.chart_type == "box":
        return px.box(frame, x=spec.x, y=spec.y, color_discrete_sequence=[SINGLE_COLOR])
    if spec.chart_type == "correlation":
        corr = frame.select_dtypes("number").corr()
        return px.imshow(corr, zmin=-1, zmax=1, color_continuous_scale=DIVERGING_SCALE,
                         text_auto=".2f")
    # heatmap: rows counted (or a number column summed) over two columns
    return px.density_heatmap(frame, x=spec.x, y=spec.y, z=spec.color,
                              histfunc="sum" if spec.color else "count",
                              color_continuous_scale=SEQUENTIAL_SCALE)


def _summary(data: pd.DataFrame, spec: ChartSpec, title: str) -> str:
    name = CHART_NAMES[spec.chart_type]
    values = pd.to_numeric(data["value"], errors="coerce").astype("float64").tolist()

    def where(x: object, color: object = None) -> str:
        label = x.strftime("%-d %b %Y") if isinstance(x, pd.Timestamp) else str(x)
        return f"{label} / {color}" if color is not None else label

    colors = data["color"].tolist() if "color" in data else [None] * len(data)
    labels = [where(x, c) for x, c in zip(data["x"], colors, strict=True)]
    return (f"{name} of {title[0].lower() + title[1:]}: "
            f"{rank_phrase(labels, values, what='group')}.")


def build_chart(frame: pd.DataFrame, spec: ChartSpec) -> AskChart:
    """The figure, title and summary for a validated spec over a result frame. Values that
    do not add up (averages, shares …) are drawn side by side, never stacked."""
    spec, note = as_drawn(spec)
    if spec.chart_type in (*BAR_TYPES, "line", "area") and spec.x:
        data = _series(frame, spec)
        value_label = _value_label(spec, frame)
        title = f"{value_label} by {spec.x}" + (f" and {spec.color}" if spec.color else "")
        labels = {"x": spec.x + (f" ({spec.bucket})" if spec.bucket else ""),
                  "value": value_label, "color": spec.color or ""}
        figure = _series_figure(data, spec, labels)
        summary = _summary(data, spec, title)
    else:
        figure = _other_figure(frame, spec)
        title = spec_title(spec, value=spec.color or "Rows", x_label=spec.x or "")
        summary = (f"{title} ({CHART_NAMES[spec.chart_type].lower()}), from {len(frame):,} "
                   "result rows.")
    _style(figure, title, summary)
    if spec.log_y:
        figure.update_yaxes(type="log")
    if spec.log_x and spec.x in frame and pd.api.types.is_numeric_dtype(frame[spec.x]) \
            and can_log_x(spec.chart_type, "number"):
        figure.update_xaxes(type="log")
    return AskChart(figure=plain_figure_text(figure), title=title, summary=summary, note=note)


def _style(figure: go.Figure, title: str, summary: str) -> None:
    figure.update_layout(title={"text": title}, paper_bgcolor="rgba(0,0,0,0)",
                         plot_bgcolor="rgba(0,0,0,0)", separators=".,",
                         margin={"l": 60, "r": 20, "t": 60, "b": 60}, meta={"summary": summary})
    figure.update_xaxes(gridcolor=GRID_COLOR, zerolinecolor=GRID_COLOR)
    figure.update_yaxes(gridcolor=GRID_COLOR, zerolinecolor=GRID_COLOR, tickformat=",")
