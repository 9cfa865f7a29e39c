"""ChartData + ChartSpec → an accessible plotly figure, and a one-sentence summary.

Pure functions (no streamlit), so they are tested without a browser. Backgrounds are
transparent and the font colour is left to the theme, so the same figure reads in light and
dark mode; `for_export` gives a copy on white for PNG downloads and reports.
"""

import math

import numpy as np
import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from services.charts.aggregate import ChartData, ValueSpread
from services.charts.figure_text import plain_figure_text, plotly_text
from services.charts.palette import (
    BAR_PATTERNS,
    DASH_PATTERNS,
    DIVERGING_SCALE,
    GRID_COLOR,
    MARKER_SYMBOLS,
    NEUTRAL_LABELS,
    SEQUENTIAL_SCALE,
    SINGLE_COLOR,
    color_map,
    outlined_marker,
    style_map,
)
from services.charts.spec import (
    BAR_TYPES,
    CHART_NAMES,
    ChartSpec,
    as_drawn,
    can_log_x,
    can_log_y,
)
from services.data import display_text

FACET_WRAP = 3  # small panels per row, as plotly express's facet_col_wrap

_DATE_FORMATS = {
    "day": "%d %b %Y",
    "week": "%d %b %Y",
    "month": "%b %Y",
    "quarter": "%b %Y",
    "year": "%Y",
    None: "%d %b %Y",
}


# --- labels and numbers -----------------------------------------------------------------------


def format_number(value: float | int | None) -> str:
    """Numbers in charts follow the one rule for numbers (services.data.display_text)."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "no value"
    return display_text.number(value)


def _x_label(data: ChartData, spec: ChartSpec) -> str:
    label = data.labels.get("x", spec.x or "")
    return f"{label} ({spec.bucket})" if spec.bucket and spec.x else label


def default_title(data: ChartData, spec: ChartSpec) -> str:
    return spec_title(spec, value=data.labels.get("value", "Count of rows"),
                      x_label=_x_label(data, spec))


def spec_title(spec: ChartSpec, *, value: str, x_label: str) -> str:
    """A chart's title from its specification, e.g. “Mean of price by region and year”."""
    if spec.chart_type == "scatter":
        return f"{spec.y} against {spec.x}"
    if spec.chart_type == "histogram":
        return f"Distribution of {spec.x}"
    if spec.chart_type == "box":
        return f"{spec.y} by {spec.x}" if spec.x else f"Spread of {spec.y}"
    if spec.chart_type == "correlation":
        return "Correlation between number columns"
    if spec.chart_type == "heatmap":
        return f"{value} by {spec.x} and {spec.y}"
    return f"{value} by {x_label}" + (f" and {spec.color}" if spec.color else "")


def _label_text(value: object, spec: ChartSpec) -> str:
    if isinstance(value, pd.Timestamp):
        if spec.bucket == "quarter":
            return f"Q{value.quarter} {value.year}"
        return value.strftime(_DATE_FORMATS.get(spec.bucket, "%d %b %Y"))
    if isinstance(value, float):
        is_year = display_text.is_year_column(spec.x or "", [value])
        return display_text.year(value) if is_year else format_number(value)
    return str(value)


# --- figure -----------------------------------------------------------------------------------


def _groups(frame: pd.DataFrame, column: str) -> list[str]:
    """Groups in order of appearance, grey ones last."""
    if column not in frame:
        return []
    seen = [str(v) for v in pd.unique(frame[column].astype(str))]
    return [v for v in seen if v not in NEUTRAL_LABELS] + [v for v in seen if v in NEUTRAL_LABELS]


def _px_common(data: ChartData, spec: ChartSpec, frame: pd.DataFrame) -> dict:
    labels = {**data.labels, "x": _x_label(data, spec)}
    out: dict = {"labels": labels, "category_orders": {}}
    if "x" in frame and frame["x"].dtype == object:
        out["category_orders"]["x"] = list(pd.unique(frame["x"]))
    if "color" in frame and frame["color"].dtype.kind not in "fiu":
        groups = _groups(frame, "color")
        out.update(color="color", color_discrete_map=color_map(groups))
        out["category_orders"]["color"] = groups
    elif "color" in frame:
        out.update(color="color", color_continuous_scale=SEQUENTIAL_SCALE)
    else:
        out["color_discrete_sequence"] = [SINGLE_COLOR]
    if "facet" in frame:
        out.update(facet_col="facet", facet_col_wrap=FACET_WRAP)
        out["category_orders"]["facet"] = _groups(frame, "facet")
    return out


def _series_figure(data: ChartData, spec: ChartSpec, frame: pd.DataFrame) -> go.Figure:
    common = _px_common(data, spec, frame)
    # the hover shows each value as the one rule writes it (not plotly's own number format)
    shown = (display_text.number_texts(frame["value"])
             if pd.api.types.is_numeric_dtype(frame["value"])
             else [display_text.cell(v) for v in frame["value"]])
    frame = frame.assign(value_text=shown)
    common["labels"]["value_text"] = common["labels"].get("value", "value")
    hover: dict = {"value": False, "value_text": True}
    if "rows" in frame and not data.counts_rows:  # a count's "Rows" would repeat it
        hover = {"rows": ":,", **hover}
    if "vals" in frame and spec.y:  # a mean skips empty values: say how many it used
        hover = {"rows": ":,", "vals": ":,", "value": False, "value_text": True}
        common["labels"]["vals"] = f"{spec.y} values"
    has_groups = "color_discrete_map" in common
    groups = common["category_orders"].get("color", [])
    if spec.chart_type in BAR_TYPES or spec.chart_type == "histogram":
        if has_groups and spec.chart_type != "grouped_bar":
            common.update(pattern_shape="color", pattern_shape_map=style_map(groups, BAR_PATTERNS))
        fig = px.bar(frame, x="x", y="value", hover_data=hover, **common)
        mode = "group" if spec.chart_type == "grouped_bar" else "stack"
        fig.update_layout(barmode=mode if has_groups else "relative")
        if spec.chart_type == "histogram":
            fig.update_traces(width=data.bin_widths.get("x"))
            fig.update_layout(bargap=0.02)
        return fig
    if has_groups:
        common.update(
            line_dash="color",
            line_dash_map=style_map(groups, DASH_PATTERNS),
            symbol="color",
            symbol_map=style_map(groups, MARKER_SYMBOLS),
        )
    if spec.chart_type == "area":
        if has_groups:  # areas differ by fill pattern and marker instead of dash
            common.pop("line_dash")
            common.pop("line_dash_map")
            common.update(pattern_shape="color", pattern_shape_map=style_map(groups, BAR_PATTERNS))
        return px.area(
            frame, x="x", y="value", hover_data=hover, markers=len(frame) <= 200, **common
        )
    # SVG, not WebGL: WebGL lines cannot draw custom dash patterns (≤ 10,000 points anyway).
    return px.line(
        frame,
        x="x",
        y="value",
        hover_data=hover,
        render_mode="svg",
        markers=len(frame) <= 200,
        **common,
    )


def _scatter_figure(data: ChartData, spec: ChartSpec, frame: pd.DataFrame) -> go.Figure:
    common = _px_common(data, spec, frame)
    if "color_discrete_map" in common:
        groups = common["category_orders"]["color"]
        common.update(symbol="color", symbol_map=style_map(groups, MARKER_SYMBOLS))
    fig = px.scatter(frame, x="x", y="y", render_mode="webgl", **common)
    fig.update_traces(marker={"size": 6 if len(frame) > 2000 else 8})
    return outline_markers(fig)


def outline_markers(fig: go.Figure) -> go.Figure:
    """Every dot of one colour gets a see-through fill inside a solid outline
    (`palette.outlined_marker`); a colour scale (a number on “Colour”) is left as it is."""
    for trace in fig.data:
        if isinstance(trace.marker.color, str):
            trace.marker.update(outlined_marker(trace.marker.color))
    return fig


def _box_trace(part: pd.DataFrame, name: str) -> go.Box:
    return go.Box(
        x=part["x"].astype(str),
        q1=part["q1"],
        median=part["median"],
        q3=part["q3"],
        lowerfence=part["lower_fence"],
        upperfence=part["upper_fence"],
        mean=part["mean"],
        name=name,
        marker_color=SINGLE_COLOR,
        boxpoints=False,
        showlegend=False,
    )


def _box_figure(data: ChartData, spec: ChartSpec, frame: pd.DataFrame) -> go.Figure:
    """One box per group; “Small panels by” draws one small panel per value, side by side
    with the same y axis, as the other chart types do."""
    facets = _groups(frame, "facet")
    if not facets:
        fig = go.Figure(_box_trace(frame, data.labels.get("x", "")))
        fig.update_layout(xaxis_title=data.labels.get("x", ""), yaxis_title=spec.y)
        return fig
    columns = min(FACET_WRAP, len(facets))
    rows = math.ceil(len(facets) / columns)
    facet_label = data.labels.get("facet", spec.facet or "")
    fig = make_subplots(rows=rows, cols=columns, shared_yaxes=True,
                        subplot_titles=[f"{facet_label}: {f}" for f in facets],
                        horizontal_spacing=0.04, vertical_spacing=0.12)
    for index, facet in enumerate(facets):
        part = frame[frame["facet"].astype(str) == facet]
        fig.add_trace(_box_trace(part, str(facet)), row=index // columns + 1,
                      col=index % columns + 1)
    fig.update_xaxes(title_text=data.labels.get("x", ""), row=rows)
    fig.update_yaxes(title_text=spec.y, col=1)
    return fig


def _axis_texts(values: list, frame: pd.DataFrame, axis: str, spec: ChartSpec) -> list[str]:
    """Heatmap ticks: a whole-number bin reads “6–8”, a single value “7”."""
    ends = dict(zip(frame[axis], frame[f"{axis}_to"], strict=True)) \
        if f"{axis}_to" in frame else {}
    return [f"{v}–{ends[v]}" if ends.get(v, v) != v else _label_text(v, spec) for v in values]


def _heatmap_figure(data: ChartData, spec: ChartSpec, frame: pd.DataFrame) -> go.Figure:
    wide = frame.pivot_table(
        index="y",
        columns="x",
        values="value",
        aggfunc="first",
        sort=spec.chart_type != "correlation" and True,
    )
    if spec.chart_type == "correlation":
        order = list(pd.unique(frame["x"]))
        wide = wide.reindex(index=order, columns=order)
    x_labels = _axis_texts(list(wide.columns), frame, "x", spec)
    y_labels = _axis_texts(list(wide.index), frame, "y", spec)
    z = wide.to_numpy(dtype="float64")
    value_label = data.labels.get("value", "")
    trace: dict = {
        "z": z,
        "x": x_labels,
        "y": y_labels,
        "colorscale": SEQUENTIAL_SCALE,
        "colorbar": {"title": {"text": plotly_text(value_label)}, "tickformat": ","},
        "hovertemplate": f"{plotly_text(data.labels.get('x', 'x'))}: %{{x}}<br>"
        f"{plotly_text(data.labels.get('y', 'y'))}: %{{y}}<br>"
        f"{plotly_text(value_label)}: %{{text}}<extra></extra>",
        "hoverongaps": False,
        # the cells' numbers are written by the one rule for numbers, not by plotly's
        "text": [["" if math.isnan(v) else display_text.number(v) for v in row] for row in z],
    }
    if spec.chart_type == "correlation":
        trace.update(colorscale=DIVERGING_SCALE, zmin=-1, zmax=1, texttemplate="%{text}")
    fig = go.Figure(go.Heatmap(**trace))
    fig.update_layout(xaxis_title=data.labels.get("x", ""), yaxis_title=data.labels.get("y", ""))
    fig.update_xaxes(type="category")
    fig.update_yaxes(
        type="category", autorange="reversed" if spec.chart_type == "correlation" else True
    )
    return fig


def _facet_title(annotation: go.layout.Annotation) -> None:
    """plotly express writes "Region=North"; people read "Region: North"."""
    label, sep, value = (annotation.text or "").partition("=")
    if sep:
        annotation.update(text=f"{label}: {value}")


def _empty_figure(note: str) -> go.Figure:
    fig = go.Figure()
    fig.add_annotation(
        text=note or "Nothing to show.", showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper"
    )
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return fig


def build_figure(data: ChartData, spec: ChartSpec, *, title: str | None = None) -> go.Figure:
    """The chart for `data`; every series differs by colour *and* shape/dash/pattern.
    Averages and other values that do not add up are never stacked (`as_drawn`)."""
    spec = as_drawn(spec)[0]
    frame = data.frame
    if frame.empty:
        fig = _empty_figure("No rows match the filters; remove a filter to see data.")
    elif spec.chart_type == "scatter":
        fig = _scatter_figure(data, spec, frame)
    elif spec.chart_type == "box":
        fig = _box_figure(data, spec, frame)
    elif spec.chart_type in ("heatmap", "correlation"):
        fig = _heatmap_figure(data, spec, frame)
    else:
        fig = _series_figure(data, spec, frame)
    fig.update_layout(
        title={"text": title or default_title(data, spec)},
        paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="rgba(0,0,0,0)",
        separators=".,",
        margin={"l": 60, "r": 20, "t": 60, "b": 60},
        legend={"title": {"text": data.labels.get("color") or (
            data.labels.get("facet", "") if spec.chart_type == "box" else "")}},
        meta={"summary": summarize(data, spec), "marks": data.mark_count},
    )
    fig.for_each_annotation(_facet_title)
    fig.update_xaxes(gridcolor=GRID_COLOR, zerolinecolor=GRID_COLOR)
    fig.update_yaxes(gridcolor=GRID_COLOR, zerolinecolor=GRID_COLOR)
    if spec.chart_type not in ("heatmap", "correlation", "box") and not frame.empty:
        fig.update_yaxes(tickformat=",")
        if not spec.log_y and _small_whole_numbers(frame):
            fig.update_yaxes(dtick=1)  # three rows are never "2.5" rows
    if spec.chart_type == "box" and not frame.empty:
        fig.update_yaxes(tickformat=",")
    if spec.log_y and can_log_y(spec.chart_type):
        fig.update_yaxes(type="log")
    if spec.log_x and "x" in frame and pd.api.types.is_numeric_dtype(frame["x"]) \
            and can_log_x(spec.chart_type, "number"):
        fig.update_xaxes(type="log")
    if spec.bucket:
        fig.update_xaxes(tickformat=_DATE_FORMATS[spec.bucket])
    return plain_figure_text(fig)


def _small_whole_numbers(frame: pd.DataFrame, top: int = 6) -> bool:
    """True when the values are counts (or other whole numbers) so small that plotly's own
    ticks would fall between them (0, 0.5, 1 …); stacked bars are judged by their sum."""
    if "value" not in frame or not pd.api.types.is_numeric_dtype(frame["value"]):
        return False
    values = frame["value"].dropna()
    if values.empty or (values < 0).any() or not (values == values.round()).all():
        return False
    if "x" in frame:
        values = values.groupby(frame.loc[values.index, "x"]).sum()
    return bool(values.max() <= top)


def for_export(fig: go.Figure) -> go.Figure:
    """A copy on a white background with dark text, for PNG downloads and reports."""
    out = go.Figure(fig)
    out.update_layout(
        template="plotly_white",
        paper_bgcolor="white",
        plot_bgcolor="white",
        font={"color": "#262730"},
    )
    return out


# --- summary ------------------------------------------------------------------------------------


def _names(labels: list[str], limit: int = 3) -> str:
    """“A”, “A and B”, “A, B and C”, “A, B, C and 4 others”."""
    shown = labels[:limit]
    rest = len(labels) - len(shown)
    if rest:
        return ", ".join(shown) + f" and {rest:,} other" + ("s" if rest > 1 else "")
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " and " + shown[-1]


def _ranked(labels: list[str], values: list[float],
            ) -> tuple[int, list[str], float, list[str], float]:
    """(groups with a number, labels at the top, top value, labels at the bottom, bottom)."""
    pairs = [(label, float(v)) for label, v in zip(labels, values, strict=True)
             if v is not None and math.isfinite(float(v))]
    if not pairs:
        return 0, [], math.nan, [], math.nan
    high = max(v for _, v in pairs)
    low = min(v for _, v in pairs)
    return (len(pairs), [label for label, v in pairs if v == high], high,
            [label for label, v in pairs if v == low], low)


def rank_phrase(labels: list[str], values: list[float], *, what: str = "group") -> str:
    """Which groups are highest and lowest, true for every shape of data: no values, one
    group, all equal, ties at either end, negative numbers. `what` names one group
    (“group”, “cell”); the phrase has no full stop, so it can sit inside a sentence."""
    count, top, high, bottom, low = _ranked(labels, values)
    if not count:
        return f"no {what} has a number to show"
    if count == 1:
        return f"there is only one {what}, {top[0]} ({format_number(high)})"
    if high == low:
        return f"all {count:,} {what}s are equal ({format_number(high)})"
    high_text, low_text = display_text.numbers_apart([high, low])  # 99.95 is not 100
    if len(top) == 1 and len(bottom) == 1:
        return (f"{top[0]} is highest ({high_text}) and {bottom[0]} "
                f"lowest ({low_text})")
    verb_top = "is" if len(top) == 1 else "are"  # ties: one clause each, so “and” is clear
    verb_bottom = "is" if len(bottom) == 1 else "are"
    return (f"{_names(top)} {verb_top} highest ({high_text}); {_names(bottom)} "
            f"{verb_bottom} lowest ({low_text})")


def _median_phrase(labels: list[str], medians: list[float]) -> str:
    count, top, high, bottom, low = _ranked(labels, medians)
    if not count:
        return "no group has a median"
    if high == low:
        return f"the median is the same for all {count:,} groups ({format_number(high)})"
    high_text, low_text = display_text.numbers_apart([high, low])
    return (f"the median is highest for {_names(top)} ({high_text}) and lowest "
            f"for {_names(bottom)} ({low_text})")


def _extremes(data: ChartData, spec: ChartSpec) -> str:
    frame = data.frame
    parts = [[_label_text(x, spec) for x in frame["x"]]]
    parts += [[str(v) for v in frame[c]] for c in ("color", "facet") if c in frame]
    labels = [" / ".join(bits) for bits in zip(*parts, strict=True)]
    values = pd.to_numeric(frame["value"], errors="coerce").astype("float64").tolist()
    return rank_phrase(labels, values, what="group")


def histogram_sentence(frame: pd.DataFrame, spread: ValueSpread | None = None) -> str:
    """Where the values lie, always true: "most values" only when one range holds more than
    half of them; otherwise the middle half between the quartiles of the values themselves
    (`spread`, from the data: bin edges are not quartiles; without it, the edges of the bars
    that hold the quartiles), and the most common range."""
    counts = frame["value"].astype("float64").to_numpy()
    total = float(counts.sum())
    start, end = frame["bin_start"].to_numpy(), frame["bin_end"].to_numpy()
    # the bin edges are written together, so neighbouring edges never look the same
    edges = dict(zip([*start, *end], display_text.numbers_apart([*start, *end]), strict=True))
    whole = f"from {edges[start.min()]} to {edges[end.max()]}"
    if total <= 0:
        return f"no values, {whole}."
    peak = int(np.argmax(counts))
    low, high = edges[start[peak]], edges[end[peak]]
    if counts[peak] > display_text.MOST * total:
        return (f"most values ({display_text.share(counts[peak], total)}) fall between "
                f"{low} and {high}, {whole}.")
    common = (f"the most common range is {low} to {high} ({format_number(counts[peak])} of "
              f"{format_number(total)} values)")
    if spread is not None and spread.q1 is not None and spread.q3 is not None:
        q1, q3 = display_text.numbers_apart([spread.q1, spread.q3])
    else:  # only the bars are known (a saved chart): the edges of the bars around them
        running = np.cumsum(counts)
        q1 = edges[start[int(np.searchsorted(running, 0.25 * total))]]
        q3 = edges[end[int(np.searchsorted(running, 0.75 * total))]]
    return f"the middle half of the values lie between {q1} and {q3}, {whole}; {common}."


def _values_in_rows(data: ChartData) -> str:
    """“7,986 values in 8,602 rows; 616 empty”: values and rows are counted apart."""
    spread = data.spread
    values = spread.values if spread else int(data.frame["value"].sum())
    infinite = spread.infinite if spread else 0
    empty = spread.empty if spread else max(data.rows_in - values, 0)
    text = f"{values:,} value{'s' if values != 1 else ''} in {data.rows_in:,} " \
           f"row{'s' if data.rows_in != 1 else ''}"
    if empty:
        text += f"; {empty:,} empty"
    if infinite:
        text += f"; {infinite:,} infinite left out"
    return text


def summarize(data: ChartData, spec: ChartSpec) -> str:
    """One plain sentence describing the chart (also its alt text)."""
    spec = as_drawn(spec)[0]  # name the chart that is drawn: side by side, not stacked
    name = CHART_NAMES[spec.chart_type]
    frame = data.frame
    if frame.empty:
        return f"{name} of {default_title(data, spec).lower()}: no rows match the filters."
    rows = f"{data.rows_in:,} rows"
    if spec.chart_type == "scatter":
        both = frame[["x", "y"]].apply(pd.to_numeric, errors="coerce").dropna()
        r = float(np.corrcoef(both["x"], both["y"])[0, 1]) if len(both) > 2 else math.nan
        strength = (
            "no clear"
            if not math.isfinite(r) or abs(r) < 0.1
            else "a weak"
            if abs(r) < 0.3
            else "a moderate"
            if abs(r) < 0.6
            else "a strong"
        )
        direction = "" if strength == "no clear" else (" positive" if r > 0 else " negative")
        shown = f"a sample of {len(frame):,} of {rows}" if data.is_sampled else rows
        if not math.isfinite(r):  # too few points, or one of the columns never changes
            return (f"{name} of {spec.y} against {spec.x} for {shown}: too few different "
                    "values to measure a relationship.")
        return (
            f"{name} of {spec.y} against {spec.x} for {shown}: {strength}{direction} "
            f"relationship (correlation {format_number(r)})."
        )
    if spec.chart_type == "histogram":
        where = histogram_sentence(frame, data.spread)
        return f"{name} of {spec.x}, {_values_in_rows(data)}: {where}"
    if spec.chart_type == "box":
        if len(frame) == 1:
            only = frame.iloc[0]
            return (
                f"{name} of {spec.y} over {rows}: median {format_number(only['median'])}, "
                f"middle half between {format_number(only['q1'])} and "
                f"{format_number(only['q3'])}."
            )

        def group(row: pd.Series) -> str:
            return f"{row['x']} / {row['facet']}" if "facet" in row else str(row["x"])

        medians = frame["median"].astype("float64").tolist()
        ranked = _median_phrase([group(r) for _, r in frame.iterrows()], medians)
        return f"{name} of {spec.y} by {spec.x}: {ranked}, {len(frame):,} groups."
    if spec.chart_type == "correlation":
        pairs = frame[frame["x"].astype(str) < frame["y"].astype(str)].dropna(subset=["value"])
        columns = frame["x"].nunique()
        if pairs.empty:
            return f"{name} of {columns} number columns: no pair could be compared."
        best = pairs.iloc[int(np.argmax(pairs["value"].abs().to_numpy()))]
        return (
            f"{name} of {columns} number columns: the strongest pair is {best['x']} and "
            f"{best['y']} (correlation {format_number(best['value'])})."
        )
    value = data.labels.get("value", "Count of rows")
    value = value[0].lower() + value[1:]
    if spec.chart_type == "heatmap":
        xs = _axis_texts(list(frame["x"]), frame, "x", spec)
        ys = _axis_texts(list(frame["y"]), frame, "y", spec)
        cells = [f"{spec.x} {x}, {spec.y} {y}" for x, y in zip(xs, ys, strict=True)]
        values = pd.to_numeric(frame["value"], errors="coerce").astype("float64").tolist()
        cell_count, top, high, _, _ = _ranked(cells, values)
        if not cell_count:
            found = "no cell has a number to show"
        elif len(top) == cell_count and cell_count > 1:
            found = f"all {cell_count:,} cells are equal ({format_number(high)})"
        else:
            verb = "is" if len(top) == 1 else "are"
            found = f"the highest {'cell' if len(top) == 1 else 'cells'} {verb} " \
                    f"{'; '.join(top[:3])}{' and others' if len(top) > 3 else ''} " \
                    f"({format_number(high)})"
        return f"{name} of {value} by {spec.x} and {spec.y}: {found}."
    count = frame["x"].nunique()
    groups = f", {frame['color'].nunique()} {spec.color} groups" if "color" in frame else ""
    counted = f", {count:,} {_x_label(data, spec)} values{groups}" if len(frame) > 1 else ""
    return f"{name} of {value} by {_x_label(data, spec)}: {_extremes(data, spec)}{counted}."
