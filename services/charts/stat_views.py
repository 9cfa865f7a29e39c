"""Seaborn statistical figures as PNG bytes (Statistics tab and exported reports).

Only a DuckDB sample (or a SQL summary, for correlations) reaches pandas. Figures are drawn
on white with dark text, so the image reads the same inside a light or a dark page.
"""

import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display: render straight to PNG

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from services.data import duck, duckdb_errors
from services.data.column_kinds import duckdb_chart_kind  # noqa: E402
from services.data.sql_names import quote_ident, read_columns  # noqa: E402
from services.errors import InvalidInput, NotFound  # noqa: E402

OKABE_ITO_BLUE = "#0072B2"
OKABE_ITO_VERMILLION = "#D55E00"
SAMPLE_SEED = 42
DISTRIBUTION_SAMPLE = 50_000
MAX_STAT_COLUMNS = 12
TEXT_COLOR = "#262730"
_THEME = {"axes.facecolor": "white", "figure.facecolor": "white", "text.color": TEXT_COLOR,
          "axes.labelcolor": TEXT_COLOR, "xtick.color": TEXT_COLOR, "ytick.color": TEXT_COLOR,
          "axes.edgecolor": "#BBBBBB", "grid.color": "#E5E5E5"}


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


def _sample(parquet_path: Path, columns: dict[str, str], size: int) -> pd.DataFrame:
    """A fixed-seed sample of rows where every chosen value is a finite number."""
    picks = ", ".join(f"CAST({sql} AS DOUBLE) AS {quote_ident(name)}"
                      for name, sql in columns.items())
    finite = " AND ".join(f"isfinite(CAST({sql} AS DOUBLE))" for sql in columns.values())
    sql = (f"WITH f AS (SELECT {picks} FROM read_parquet($path) WHERE {finite}) "
           f"SELECT * FROM f USING SAMPLE reservoir({int(size)} ROWS) REPEATABLE "
           f"({SAMPLE_SEED})")
    return duck.query_frame(sql, {"path": str(parquet_path)}, task=duckdb_errors.STATISTICS)


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight", facecolor="white")
    plt.close(fig)
    return buffer.getvalue()


def _nothing_to_plot(what: str) -> InvalidInput:
    return InvalidInput(f"There are no numbers to plot for {what}: the values are missing or "
                        "not finite. Try another column or remove a filter.")


def distribution_png(parquet_path: Path, column: str) -> bytes:
    """Histogram with a density curve (numbers) or the 20 most common values (text)."""
    known = _columns(parquet_path)
    if column not in known:
        raise InvalidInput(f"The column “{column}” is not in this dataset — it may have been "
                           "renamed or removed.")
    sql_name, duck_type = known[column]
    with sns.axes_style("whitegrid", _THEME):
        fig, ax = plt.subplots(figsize=(7, 4))
        if _is_number(duck_type):
            frame = _sample(parquet_path, {column: sql_name}, DISTRIBUTION_SAMPLE)
            if frame.empty:
                plt.close(fig)
                raise _nothing_to_plot(column)
            sns.histplot(frame, x=column, kde=frame[column].nunique() > 1, ax=ax,
                         color=OKABE_ITO_BLUE)
            ax.set_ylabel("Count of rows")
        else:
            sql = (f"SELECT COALESCE(CAST({sql_name} AS VARCHAR), '(missing)') AS value, "
                   f"COUNT(*) AS n FROM read_parquet($path) GROUP BY ALL ORDER BY n DESC, "
                   f"value LIMIT 20")
            frame = duck.query_frame(sql, {"path": str(parquet_path)},
                                     task=duckdb_errors.STATISTICS)
            sns.barplot(frame, y="value", x="n", ax=ax, color=OKABE_ITO_BLUE, orient="h")
            ax.set_xlabel("Count of rows")
            ax.set_ylabel(column)
        ax.set_title(f"Distribution of {column}")
        return _png(fig)


def correlation_png(parquet_path: Path, columns: list[str]) -> bytes:
    """Annotated correlation heatmap; correlations computed in SQL over every row."""
    chosen = _number_columns(parquet_path, columns[:MAX_STAT_COLUMNS], least=2)
    names = list(chosen)
    pairs = [(a, b) for i, a in enumerate(names) for b in names[i + 1:]]
    selects = ", ".join(
        f"corr(CASE WHEN isfinite(CAST({chosen[a]} AS DOUBLE)) THEN CAST({chosen[a]} AS DOUBLE)"
        f" END, CASE WHEN isfinite(CAST({chosen[b]} AS DOUBLE)) THEN "
        f"CAST({chosen[b]} AS DOUBLE) END) AS r{i}" for i, (a, b) in enumerate(pairs))
    row = duck.query_row(f"SELECT {selects} FROM read_parquet($path)",
                         {"path": str(parquet_path)}, task=duckdb_errors.STATISTICS)
    matrix = pd.DataFrame(np.eye(len(names)), index=names, columns=names)
    for i, (a, b) in enumerate(pairs):
        value = row[i] if row is not None and row[i] is not None else np.nan
        matrix.loc[a, b] = matrix.loc[b, a] = value
    size = 1.2 + 0.7 * len(names)
    with sns.axes_style("white", _THEME):
        fig, ax = plt.subplots(figsize=(size + 1.5, size))
        sns.heatmap(matrix, annot=True, fmt=".2f", vmin=-1, vmax=1, cmap="cividis",
                    square=True, ax=ax, cbar_kws={"label": "Correlation"},
                    annot_kws={"size": 9})
        ax.set_title("Correlation between number columns")
        return _png(fig)


def pairplot_png(parquet_path: Path, columns: list[str], sample_size: int = 2000,
                 ) -> tuple[bytes, int]:
    """Pair plot of a fixed-seed sample; returns the image and the rows actually drawn."""
    chosen = _number_columns(parquet_path, columns[:6], least=2)
    frame = _sample(parquet_path, chosen, sample_size)
    if frame.empty:
        raise _nothing_to_plot(", ".join(chosen))
    with sns.axes_style("whitegrid", _THEME):
        grid = sns.pairplot(frame, corner=True, height=1.9,
                            plot_kws={"s": 8, "alpha": 0.5, "color": OKABE_ITO_BLUE,
                                      "edgecolor": "none"},
                            diag_kws={"color": OKABE_ITO_BLUE})
        grid.figure.suptitle(f"Pair plot of a {len(frame):,}-row sample", y=1.02)
        return _png(grid.figure), len(frame)


def regression_png(parquet_path: Path, x: str, y: str, sample_size: int = 5000) -> bytes:
    """Scatter of y on x from a sample, with the least-squares line and its 95 % band."""
    chosen = _number_columns(parquet_path, [x, y], least=2)
    frame = _sample(parquet_path, chosen, sample_size)
    if len(frame) < 3:
        raise _nothing_to_plot(f"{y} against {x}")
    with sns.axes_style("whitegrid", _THEME):
        fig, ax = plt.subplots(figsize=(7, 4.5))
        sns.regplot(frame, x=x, y=y, ax=ax, n_boot=200, seed=SAMPLE_SEED,
                    scatter_kws={"s": 8, "alpha": 0.4, "color": OKABE_ITO_BLUE},
                    line_kws={"color": OKABE_ITO_VERMILLION})
        ax.set_title(f"{y} against {x} ({len(frame):,}-row sample)")
        return _png(fig)
