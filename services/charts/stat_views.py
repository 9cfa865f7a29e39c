"""Seaborn statistical figures as PNG bytes (Statistics tab and exported reports).

Only a DuckDB sample (or a SQL summary, for correlations) reaches pandas. Figures are drawn
on white with dark text, so the image reads the same inside a light or a dark page.

Streamlit draws each session on its own thread, so nothing here touches process-wide state:
no pyplot (its figure registry is shared), no seaborn themes and no rcParams writes (they
are one dictionary for the whole process). Each figure is a plain ``Figure`` styled through
its own axes, and is cleared once its PNG is written.
"""

import io
from pathlib import Path

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from services.charts.aggregate import filter_condition
from services.charts.spec import Filter
from services.data import duck, duckdb_errors
from services.data.column_kinds import duckdb_chart_kind
from services.data.sql_names import quote_ident, read_columns
from services.errors import InvalidInput, NotFound

OKABE_ITO_BLUE = "#0072B2"
OKABE_ITO_VERMILLION = "#D55E00"
SAMPLE_SEED = 42
DISTRIBUTION_SAMPLE = 50_000
MAX_STAT_COLUMNS = 12
TEXT_COLOR = "#262730"
EDGE_COLOR = "#BBBBBB"
GRID_COLOR = "#E5E5E5"


def _columns(parquet_path: Path) -> dict[str, tuple[str, str]]:
    """Display name → (quoted SQL name, DuckDB type)."""
    if not Path(parquet_path).is_file():
        raise NotFound("This dataset's file is missing — the dataset may have been deleted.")
    return {c.name: (quote_ident(c.sql_name), c.duckdb_type.upper())
            for c in read_columns(Path(parquet_path))}


def _is_number(duck_type: str) -> bool:
    return duckdb_chart_kind(duck_type) == "number"


def _number_columns(parquet_path: Path, names: list[str], least: int) -> dict[str, str]:
    known = _columns(parquet_path)
    for name in names:
        if name not in known:
            raise InvalidInput(f"The column “{name}” is not in this dataset — it may have been "
                               "renamed or removed.")
        if not _is_number(known[name][1]):
            raise InvalidInput(f"“{name}” is not a number column. If it holds numbers stored "
                               "as text, use the “numbers stored as text” fix in the quality "
                               "report first.")
    if len(set(names)) < least:
        raise InvalidInput(f"Choose at least {least} different number columns.")
    return {name: known[name][0] for name in dict.fromkeys(names)}


def _kept(parquet_path: Path, filters: list[Filter] | None) -> tuple[str, dict[str, object]]:
    """The rows Explore's filters keep (all rows without filters), as SQL and bound values."""
    if not filters:
        return "TRUE", {"path": str(parquet_path)}
    return filter_condition(parquet_path, filters)


def _query(sql: str, params: dict[str, object]) -> pd.DataFrame:
    return duck.query_frame(sql, params, task=duckdb_errors.STATISTICS)


def _sample(parquet_path: Path, columns: dict[str, str], size: int,
            filters: list[Filter] | None = None) -> pd.DataFrame:
    """A fixed-seed sample of the kept rows where every chosen value is a finite number."""
    where, params = _kept(parquet_path, filters)
    picks = ", ".join(f"CAST({sql} AS DOUBLE) AS {quote_ident(name)}"
                      for name, sql in columns.items())
    finite = " AND ".join(f"isfinite(CAST({sql} AS DOUBLE))" for sql in columns.values())
    sql = (f"WITH f AS (SELECT {picks} FROM read_parquet($path) WHERE ({where}) AND {finite}) "
           f"SELECT * FROM f USING SAMPLE reservoir({int(size)} ROWS) REPEATABLE "
           f"({SAMPLE_SEED})")
    return _query(sql, params)


def _style(ax: Axes, grid: bool = True) -> None:
    """White axes, dark text and light grid lines, set on this axes alone (see module doc)."""
    ax.set_facecolor("white")
    for spine in ax.spines.values():
        spine.set_color(EDGE_COLOR)
    ax.tick_params(colors=TEXT_COLOR, length=0 if grid else 3.5)
    ax.xaxis.label.set_color(TEXT_COLOR)
    ax.yaxis.label.set_color(TEXT_COLOR)
    ax.title.set_color(TEXT_COLOR)
    if grid:
        ax.grid(True, color=GRID_COLOR)
        ax.set_axisbelow(True)
    else:
        ax.grid(False)


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    try:
        fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight", facecolor="white")
    finally:
        fig.clear()  # the figure was never registered with pyplot; free its artists now
    return buffer.getvalue()


def _nothing_to_plot(what: str) -> InvalidInput:
    return InvalidInput(f"There are no numbers to plot for {what}: the values are missing or "
                        "not finite. Try another column or remove a filter.")


def distribution_png(parquet_path: Path, column: str,
                     filters: list[Filter] | None = None) -> bytes:
    """Histogram with a density curve (numbers) or the 20 most common values (text), over
    the rows the filters keep."""
    known = _columns(parquet_path)
    if column not in known:
        raise InvalidInput(f"The column “{column}” is not in this dataset — it may have been "
                           "renamed or removed.")
    sql_name, duck_type = known[column]
    if _is_number(duck_type):
        frame = _sample(parquet_path, {column: sql_name}, DISTRIBUTION_SAMPLE, filters)
    else:
        where, params = _kept(parquet_path, filters)
        sql = (f"SELECT COALESCE(CAST({sql_name} AS VARCHAR), '(missing)') AS value, "
               f"COUNT(*) AS n FROM read_parquet($path) WHERE {where} GROUP BY ALL "
               f"ORDER BY n DESC, value LIMIT 20")
        frame = _query(sql, params)
    if frame.empty:
        raise _nothing_to_plot(column)
    fig = Figure(figsize=(7, 4))
    ax = fig.subplots()
    if _is_number(duck_type):
        sns.histplot(frame, x=column, kde=frame[column].nunique() > 1, ax=ax, edgecolor="white",
                     color=OKABE_ITO_BLUE)
        ax.set_ylabel("Count of rows")
    else:
        sns.barplot(frame, y="value", x="n", ax=ax, color=OKABE_ITO_BLUE, orient="h")
        ax.set_xlabel("Count of rows")
        ax.set_ylabel(column)
    ax.set_title(f"Distribution of {column}", color=TEXT_COLOR)
    _style(ax)
    return _png(fig)


def correlation_matrix(parquet_path: Path, columns: list[str],
                       filters: list[Filter] | None = None) -> pd.DataFrame:
    """Pearson correlations computed in SQL over every kept row (NaN where undefined)."""
    chosen = _number_columns(parquet_path, columns[:MAX_STAT_COLUMNS], least=2)
    names = list(chosen)
    pairs = [(a, b) for i, a in enumerate(names) for b in names[i + 1:]]
    selects = ", ".join(
        f"corr(CASE WHEN isfinite(CAST({chosen[a]} AS DOUBLE)) THEN CAST({chosen[a]} AS DOUBLE)"
        f" END, CASE WHEN isfinite(CAST({chosen[b]} AS DOUBLE)) THEN "
        f"CAST({chosen[b]} AS DOUBLE) END) AS r{i}" for i, (a, b) in enumerate(pairs))
    where, params = _kept(parquet_path, filters)
    row = duck.query_row(f"SELECT {selects} FROM read_parquet($path) WHERE {where}",
                         params, task=duckdb_errors.STATISTICS)
    matrix = pd.DataFrame(np.eye(len(names)), index=names, columns=names)
    for i, (a, b) in enumerate(pairs):
        value = row[i] if row is not None and row[i] is not None else np.nan
        matrix.loc[a, b] = matrix.loc[b, a] = value
    return matrix


def correlation_png(parquet_path: Path, columns: list[str],
                    filters: list[Filter] | None = None) -> bytes:
    """Annotated correlation heatmap over the kept rows."""
    matrix = correlation_matrix(parquet_path, columns, filters)
    names = list(matrix.columns)
    size = 1.2 + 0.7 * len(names)
    fig = Figure(figsize=(size + 1.5, size))
    ax = fig.subplots()
    sns.heatmap(matrix, annot=True, fmt=".2f", vmin=-1, vmax=1, cmap="cividis",
                square=True, ax=ax, cbar_kws={"label": "Correlation"},
                annot_kws={"size": 9})
    ax.set_title("Correlation between number columns", color=TEXT_COLOR)
    _style(ax, grid=False)
    colorbar = ax.collections[0].colorbar
    if colorbar is not None:
        colorbar.ax.tick_params(colors=TEXT_COLOR)
        colorbar.ax.yaxis.label.set_color(TEXT_COLOR)
    return _png(fig)


def pairplot_png(parquet_path: Path, columns: list[str], sample_size: int = 2000,
                 filters: list[Filter] | None = None) -> tuple[bytes, int]:
    """Pair plot of a fixed-seed sample of the kept rows; returns the image and the rows
    actually drawn."""
    chosen = _number_columns(parquet_path, columns[:6], least=2)
    frame = _sample(parquet_path, chosen, sample_size, filters)
    if frame.empty:
        raise _nothing_to_plot(", ".join(chosen))
    # Drawn by hand rather than with sns.pairplot: PairGrid creates its figure through
    # pyplot and flips an rcParam while doing so (see the module doc).
    names = list(chosen)
    count = len(names)
    fig = Figure(figsize=(1.9 * count, 1.9 * count))
    axes = fig.subplots(count, count, squeeze=False)
    for row, y_name in enumerate(names):
        for col, x_name in enumerate(names):
            ax = axes[row][col]
            if col > row:  # a corner plot: the upper triangle repeats the lower one
                ax.remove()
                continue
            if row == col:
                sns.histplot(frame, x=x_name, ax=ax, color=OKABE_ITO_BLUE, edgecolor="white")
            else:
                sns.scatterplot(frame, x=x_name, y=y_name, ax=ax, s=8, alpha=0.5,
                                color=OKABE_ITO_BLUE, edgecolor="none")
            ax.set_xlabel(x_name if row == count - 1 else "")
            ax.set_ylabel(y_name if col == 0 and row > 0 else "")
            _style(ax)
    fig.suptitle(f"Pair plot of a {len(frame):,}-row sample", y=1.02, color=TEXT_COLOR)
    fig.tight_layout()
    return _png(fig), len(frame)


def regression_png(parquet_path: Path, x: str, y: str, sample_size: int = 5000,
                   filters: list[Filter] | None = None) -> bytes:
    """Scatter of y on x from a sample of the kept rows, with the least-squares line and its
    95 % band."""
    chosen = _number_columns(parquet_path, [x, y], least=2)
    frame = _sample(parquet_path, chosen, sample_size, filters)
    if len(frame) < 3:
        raise _nothing_to_plot(f"{y} against {x}")
    fig = Figure(figsize=(7, 4.5))
    ax = fig.subplots()
    sns.regplot(frame, x=x, y=y, ax=ax, n_boot=200, seed=SAMPLE_SEED,
                scatter_kws={"s": 8, "alpha": 0.4, "color": OKABE_ITO_BLUE},
                line_kws={"color": OKABE_ITO_VERMILLION})
    ax.set_title(f"{y} against {x} ({len(frame):,}-row sample)", color=TEXT_COLOR)
    _style(ax)
    return _png(fig)
