"""A research item as a runnable Jupyter notebook, zipped with the data it needs.

The notebook is generated code for the person to run; the app never executes it. It loads
each dataset version (its Parquet file ships beside the notebook), reruns each insight's
query with DuckDB, redraws each chart with plotly from its stored spec, checks the numbers
against the ones Research Desk saved, and carries the notes as Markdown cells.

Everything that came from people or from Claude (titles, column names, SQL, values) enters
the code only as Python string literals written by `repr`, never as code.
"""

import io
import json
import re
import zipfile
from pathlib import Path
from typing import Any

import nbformat
import pandas as pd
import sqlglot
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook
from pydantic import BaseModel
from sqlglot.errors import SqlglotError

from services.charts import live
from services.charts.aggregate import MAX_MARKS, SAMPLE_SEED, literal_condition
from services.charts.palette import SERIES_COLORS
from services.charts.spec import BAR_TYPES, ChartSpec
from services.data.column_kinds import is_float_type
from services.data.dataset_files import frame_csv_bytes
from services.data.sql_names import quote_ident, read_columns, sql_literal
from services.errors import ResearchDeskError
from services.reports.answer_text import answer_markdown
from services.reports.bundle import ItemExport, kind_label, slug, source_sentence
from services.reports.insight_rows import InsightRows
from services.reports.notebook_live import READ_FROM, LivePlace, connect_code
from services.research.insights import InsightCard, stored_chart_spec
from services.research.items import STATUS_LABELS
from services.research.safe_markdown import plain_markdown, safe_markdown
from services.untrusted_sql import live_sql

MAX_DATA_BYTES = 200 * 1024 * 1024  # bigger dataset files are not put in the zip
DEFAULT_TOP_N = 30
COLOR_CAP = 7
SERIES_TYPES = (*BAR_TYPES, "line", "area")

_SETUP = '''# Step 1: the tools.
#   pandas holds tables, DuckDB runs SQL on the data files, plotly draws the charts.
import json
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

DATA = Path("data")     # the folder that came with this notebook, kept beside it
con = duckdb.connect()  # a private, in-memory DuckDB for this notebook only

# The colour-blind-safe Okabe-Ito palette that Research Desk uses for categories.
COLOURS = {colours}


def read_saved(saved_file):
    """The rows Research Desk used for a chart or answer, exactly as it stored them."""
    return pd.DataFrame.from_records(json.loads(Path(saved_file).read_text(encoding="utf-8")))


def same_values(mine, saved):
    """Turn two columns into comparable values: numbers, then dates, else text."""
    numbers = [pd.to_numeric(s, errors="coerce") for s in (mine, saved)]
    if all(n.notna().sum() == s.notna().sum() for n, s in zip(numbers, (mine, saved))):
        return [n.astype("float64").round(9) for n in numbers]  # saved numbers went via JSON
    dates = [pd.to_datetime(s, errors="coerce") for s in (mine, saved)]
    if all(d.notna().sum() == s.notna().sum() for d, s in zip(dates, (mine, saved))):
        return [d.dt.tz_localize(None) if d.dt.tz is not None else d for d in dates]
    return [s.astype("string").fillna("(missing)") for s in (mine, saved)]


def check_against_saved(result, saved_file, keys, values):
    """Say whether the numbers computed here match the ones Research Desk saved."""
    saved = read_saved(saved_file)
    mine = result.copy()
    for key in keys:
        mine[key], saved[key] = same_values(mine[key], saved[key])
    if not values:  # points of a scatter: is each saved point among the rows here?
        found = saved[keys].merge(mine[keys].drop_duplicates(), on=keys, how="left",
                                  indicator=True)
        matching = int((found["_merge"] == "both").sum())
        print(f"{{matching:,}} of {{len(saved):,}} saved rows match the rows computed here.")
        return matching == len(saved)
    if keys:
        both = mine.merge(saved, on=keys, how="inner", suffixes=("", " (saved)"))
    else:  # no labels to match rows by: compare row by row
        both = mine[values].head(len(saved)).reset_index(drop=True).join(
            saved[values].add_suffix(" (saved)"))
    same = np.ones(len(both), dtype=bool)
    for value in values:
        here = pd.to_numeric(both[value], errors="coerce").to_numpy(dtype="float64")
        there = pd.to_numeric(both[value + " (saved)"], errors="coerce").to_numpy(dtype="float64")
        same &= np.isclose(here, there, rtol=1e-9, atol=1e-12, equal_nan=True)
    matching = int(same.sum())
    print(f"{{matching:,}} of {{len(saved):,}} saved rows match the numbers computed here.")
    return matching == len(saved)
'''


class DataFile(BaseModel):
    """A dataset version shipped with the notebook, and the view the queries read; or a
    live table the queries read in its own database (no file, `engine` set)."""

    dataset_id: int
    version: int  # 0: a live table
    name: str
    view: str  # what the queries read: a DuckDB view, or a live table's schema.table
    file_name: str
    source: Path | None  # the Parquet file shipped in the zip (None for a live table)
    columns: dict[str, tuple[str, str]]  # display name -> (name in the file, DuckDB type)
    engine: str = ""  # a live table: the notebook variable connected to its database
    dialect: str = ""  # a live table: its database's SQL, as sqlglot names it
    label: str = ""  # a live table: “public.penguins in warehouse”
    place: tuple[str, str] | None = None  # a live table: (schema, table)

    @property
    def is_live(self) -> bool:
        return bool(self.engine)


def _data_of(card: InsightCard, files: dict[tuple[int, int], DataFile]) -> DataFile | None:
    """The data an insight's queries read: its version's file, or its live table."""
    if card.dataset_id is None:
        return None
    if card.live is not None:
        return files.get((card.dataset_id, 0))
    return files.get((card.dataset_id, card.data_version)) \
        if card.data_version is not None else None


def _run_code(data: DataFile, sql: str) -> str:
    """Code that runs one query where the data is: DuckDB over the file, or the live
    table's own database (the same query in its SQL, via services.charts.live)."""
    if not data.is_live:
        return f"sql = {_sql_literal_lines(sql)}\nresult = con.sql(sql).df()\nresult"
    native = _pretty(live.compile_sql(sql, data.dialect), data.dialect)
    return f"sql = {_sql_literal_lines(native)}\nresult = read_from({data.engine}, sql)\nresult"


def _pretty(sql: str, dialect: str) -> str:
    """The query laid out on several lines for people to read (the same query)."""
    try:
        return sqlglot.transpile(sql, read=dialect, write=dialect, pretty=True)[0]
    except SqlglotError:
        return sql


def _where_read(data: DataFile) -> str:
    return f"{_comment(data.label)}, run in that database" if data.is_live \
        else f"`{data.view}`"


# --- small writers --------------------------------------------------------------------------


def _comment(text: str) -> str:
    """User text inside a `#` comment: one line, so it can never become code."""
    return " ".join(str(text).split())


def _sql_literal_lines(sql: str, indent: str = "    ") -> str:
    """SQL as a Python string: a plain triple-quoted block when nothing in it could end or
    change the string, else one `repr` literal per line (always safe)."""
    text = sql.strip()
    if '"""' not in text and "\\" not in text and not text.endswith('"') and \
            "\r" not in text:
        return '"""\n' + text + '\n"""'
    lines = text.splitlines() or [""]
    return "(\n" + "\n".join(f"{indent}{line + chr(10)!r}" for line in lines) + "\n)"


def _identifier(text: str, fallback: str) -> str:
    name = re.sub(r"[^a-z0-9_]+", "_", text.lower()).strip("_")[:40] or fallback
    return name if name[0].isalpha() else f"t_{name}"


# --- planning the data ----------------------------------------------------------------------


def _plan_data(export: ItemExport, places: dict[int, LivePlace] | None = None,
               ) -> dict[tuple[int, int], DataFile]:
    files: dict[tuple[int, int], DataFile] = {
        (p.dataset_id, 0): DataFile(dataset_id=p.dataset_id, version=0, name=p.name,
                                    view=p.relation, file_name="", source=None,
                                    columns=p.columns, engine=p.engine, dialect=p.dialect,
                                    label=p.label, place=(p.schema_name, p.table_name))
        for p in (places or {}).values()}
    used_views: set[str] = set()
    used_files: set[str] = set()
    for card in export.insights:
        if card.dataset_id is None or card.data_version is None or not card.parquet_path:
            continue
        key = (card.dataset_id, card.data_version)
        source = Path(card.parquet_path)
        if key in files or not source.is_file() or source.stat().st_size > MAX_DATA_BYTES:
            continue
        name = card.dataset_name or f"dataset {card.dataset_id}"
        view = _identifier(f"{name}_v{card.data_version}", f"dataset_{card.dataset_id}")
        while view in used_views:
            view += "_"
        used_views.add(view)
        file_name = _file_name(name, card.dataset_id, card.data_version, used_files)
        used_files.add(file_name)
        columns = {c.name: (c.sql_name, c.duckdb_type) for c in read_columns(source)}
        files[key] = DataFile(dataset_id=card.dataset_id, version=card.data_version, name=name,
                              view=view, file_name=file_name, source=source, columns=columns)
    return files


def _file_name(name: str, dataset_id: int, version: int, used: set[str]) -> str:
    """“sales-2024-v1.parquet”; a second dataset whose name slugs the same (“Sales (2024)”)
    gets its id added, so each dataset has its own file."""
    stem = f"{slug(name, fallback='dataset')}-v{version}"
    candidate, extra = f"{stem}.parquet", 1
    while candidate in used:
        suffix = f"-dataset-{dataset_id}" + (f"-{extra}" if extra > 1 else "")
        candidate, extra = f"{stem}{suffix}.parquet", extra + 1
    return candidate


# --- Explore charts -------------------------------------------------------------------------


def _labels(card: InsightCard, spec: ChartSpec) -> dict[str, str]:
    drawn = card.spec.get("drawn") or {}
    labels = dict(drawn.get("labels") or {})
    labels.setdefault("x", spec.x or "x")
    if spec.color:
        labels.setdefault("color", spec.color)
    return labels


def _finite(data: DataFile, column: str) -> str:
    """A column with NaN and infinity as missing values, as Research Desk counts them."""
    sql_name, duck_type = data.columns[column]
    col = quote_ident(sql_name)
    return f"(CASE WHEN isfinite({col}) THEN {col} END)" if is_float_type(duck_type) else col


def _where(spec: ChartSpec, data: DataFile) -> list[str]:
    """The chart's filters, written by the same code as Explore's own queries."""
    return [literal_condition(spec.filters, data.columns)] if spec.filters else []


def _value_sql(spec: ChartSpec, data: DataFile) -> str:
    if spec.agg == "count" or spec.y is None:
        return "COUNT(*)"
    col = _finite(data, spec.y)
    return {"sum": f"CAST(SUM({col}) AS DOUBLE)", "mean": f"AVG({col})",
            "median": f"CAST(MEDIAN({col}) AS DOUBLE)", "min": f"MIN({col})",
            "max": f"MAX({col})", "distinct": f"COUNT(DISTINCT {col})"}[spec.agg]


def _is_date(duck_type: str) -> bool:
    return duck_type.upper() == "DATE" or duck_type.upper().startswith("TIMESTAMP")


def _series_sql(spec: ChartSpec, data: DataFile, labels: dict[str, str]) -> tuple[str, list[str]]:
    """The grouping Research Desk did for a bar, line or area chart, written as plain SQL,
    and the columns that identify a row of the result."""
    x_name, x_type = data.columns[spec.x or ""]
    x = quote_ident(x_name)
    keys: list[str] = []
    where: list[str] = []
    if _is_date(x_type):
        x_sql = f"date_trunc({sql_literal(spec.bucket)}, {x})" if spec.bucket else x
        where.append(f"{x} IS NOT NULL")
    elif spec.chart_type in BAR_TYPES:
        x_sql = f"COALESCE(CAST({x} AS VARCHAR), '(missing)')"
    else:
        x_sql = x
        where.append(f"{x} IS NOT NULL")
    select = [f"{x_sql} AS {quote_ident(labels['x'])}"]
    keys.append(labels["x"])
    for slot in ("color", "facet"):
        column = getattr(spec, slot)
        if column:
            label = labels.get(slot, column)
            select.append(f"COALESCE(CAST({quote_ident(data.columns[column][0])} AS VARCHAR), "
                          f"'(missing)') AS {quote_ident(label)}")
            keys.append(label)
    value_label = labels.get("value", "value")
    select.append(f"{_value_sql(spec, data)} AS {quote_ident(value_label)}")
    select.append(f"COUNT(*) AS {quote_ident(labels.get('rows', 'Rows'))}")
    where += _where(spec, data)
    order = "1" if (_is_date(x_type) or spec.chart_type not in BAR_TYPES or spec.sort == "x") \
        else f"{len(keys) + 1} {'ASC' if spec.sort == 'asc' else 'DESC'}, 1"
    sql = "SELECT\n    " + ",\n    ".join(select) + f"\nFROM {data.view}"
    if where:
        sql += "\nWHERE " + "\n  AND ".join(where)
    sql += f"\nGROUP BY ALL\nORDER BY {order}"
    return sql, keys


def _px_call(spec: ChartSpec, x: str, y: str, color: str | None, title: str) -> str:
    kind = {"line": "line", "area": "area"}.get(spec.chart_type, "bar")
    args = [f"x={x!r}", f"y={y!r}"]
    if color:
        args.append(f"color={color!r}")
    args += ["color_discrete_sequence=COLOURS", f"title={title!r}"]
    if kind in ("line", "area"):
        args.append("markers=True")
    call = f"fig = px.{kind}(\n    result,\n    " + ",\n    ".join(args) + ",\n)"
    if kind == "bar" and color:
        mode = "group" if spec.chart_type == "grouped_bar" else "stack"
        call += f'\nfig.update_layout(barmode="{mode}")'
    if spec.log_x:
        call += '\nfig.update_xaxes(type="log")'
    if spec.log_y:
        call += '\nfig.update_yaxes(type="log")'
    return call


def _saved_figure_code(spec: ChartSpec | None, labels: dict[str, str], title: str,
                       columns: list[str]) -> str:
    """plotly code that draws the saved numbers (charts whose grouping was binned or
    sampled by Research Desk, or whose data file is not in the zip)."""
    x, value = labels.get("x", "x"), labels.get("value", "value")
    if spec is None or not columns:
        return "# There is no chart to draw for this one; the table above has its data."
    start = labels.get("bin_start")
    if spec.chart_type == "histogram" and start in columns and value in columns:
        return (f"# Bars of the saved ranges: each starts at {start!r}.\n"
                f"fig = px.bar(result, x={start!r}, y={value!r}, "
                f"color_discrete_sequence=COLOURS, title={title!r})\n"
                "fig.update_layout(bargap=0.02)\nfig.show()")
    if spec.chart_type in SERIES_TYPES:
        if x in columns and value in columns:
            color = labels.get("color") if labels.get("color") in columns else None
            return _px_call(spec, x, value, color, title) + "\nfig.show()"
    if spec.chart_type == "scatter" and x in columns and labels.get("y") in columns:
        return (f"fig = px.scatter(result, x={x!r}, y={labels['y']!r}, "
                f"color_discrete_sequence=COLOURS, title={title!r})\nfig.show()")
    if spec.chart_type in ("heatmap", "correlation") and {x, labels.get("y"), value} <= set(
            columns):
        return (f"grid = result.pivot_table(index={labels['y']!r}, columns={x!r}, "
                f"values={value!r}, aggfunc='first')\n"
                f"fig = px.imshow(grid, color_continuous_scale='viridis', title={title!r}, "
                "aspect='auto')\nfig.show()")
    if spec.chart_type == "box":
        return ("# A box chart from the saved quartiles: one box per group.\n"
                "fig = go.Figure()\nfor _, row in result.iterrows():\n"
                "    fig.add_trace(go.Box(name=str(row.iloc[0]), q1=[row.get('q1')], "
                "median=[row.get('median')], q3=[row.get('q3')],\n"
                "                         lowerfence=[row.get('lower_fence')], "
                "upperfence=[row.get('upper_fence')]))\n"
                f"fig.update_layout(title={title!r}, showlegend=False)\nfig.show()")
    return "# The table above holds this chart's numbers."


def _scatter_sql(spec: ChartSpec, data: DataFile, labels: dict[str, str]) -> str:
    """Every point a scatter plots: both values present and finite, after the filters."""
    x, y = _finite(data, spec.x or ""), _finite(data, spec.y or "")
    select = [f"{x} AS {quote_ident(labels['x'])}", f"{y} AS {quote_ident(labels['y'])}"]
    if spec.color:
        select.append(f"{quote_ident(data.columns[spec.color][0])} AS "
                      f"{quote_ident(labels.get('color', spec.color))}")
    where = [f"{x} IS NOT NULL", f"{y} IS NOT NULL", *_where(spec, data)]
    return ("SELECT\n    " + ",\n    ".join(select) + f"\nFROM {data.view}\nWHERE "
            + "\n  AND ".join(where))


def _scatter_cells(spec: ChartSpec, data: DataFile, labels: dict[str, str], title: str,
                   saved: str) -> list[Any]:
    x, y = labels["x"], labels["y"]
    color = labels.get("color", spec.color) if spec.color else None
    query = (f"# {_comment(title)}: every point of the scatter, read from "
             f"{_where_read(data)}.\n" + _run_code(data, _scatter_sql(spec, data, labels)))
    colour = f"color={color!r}, " if color else ""
    draw = (f"# Draw the chart again: all points, or a random {MAX_MARKS:,} of them when "
            "there are more\n# (as Research Desk does, so the chart stays quick).\n"
            f"shown = result if len(result) <= {MAX_MARKS} else result.sample("
            f"{MAX_MARKS}, random_state={SAMPLE_SEED})\n"
            f"fig = px.scatter(shown, x={x!r}, y={y!r}, {colour}"
            f"color_discrete_sequence=COLOURS, title={title!r})\nfig.show()")
    check = ("# Check: is every point Research Desk used among the points found here?\n"
             f"check_against_saved(result, DATA / {saved!r}, keys={[x, y]!r}, values=[])")
    return [new_code_cell(query), new_code_cell(draw), new_code_cell(check)]


def _compiles(spec: ChartSpec | None, data: DataFile | None, labels: dict[str, str]) -> bool:
    """A live table's query must be sayable in its database's SQL (a file's always is)."""
    if spec is None or data is None or not data.is_live or not _queryable(spec, data):
        return True
    sql = _scatter_sql(spec, data, {"y": spec.y or "y", **labels}) \
        if spec.chart_type == "scatter" else _series_sql(spec, data, labels)[0]
    try:
        live.compile_sql(sql, data.dialect)
    except (SqlglotError, ValueError):
        return False
    return True


def _queryable(spec: ChartSpec | None, data: DataFile | None) -> bool:
    if spec is None or data is None or spec.chart_type not in (*SERIES_TYPES, "scatter"):
        return False
    value = spec.y if spec.chart_type == "scatter" or spec.agg != "count" else None
    needed = [spec.x, value, spec.color, spec.facet]
    return (all(n is None or n in data.columns for n in needed)
            and all(f.column in data.columns for f in spec.filters)
            and (spec.chart_type != "scatter" or bool(spec.x and spec.y)))


def _chart_cells(card: InsightCard, rows: InsightRows, saved: str,
                 files: dict[tuple[int, int], DataFile]) -> list[Any]:
    spec = stored_chart_spec(card.spec)
    data = _data_of(card, files)
    labels = _labels(card, spec) if spec else {}
    frame = rows.frame
    title = card.title
    if not _compiles(spec, data, labels):
        data = None  # a query this database's SQL cannot say: the saved numbers instead
    if _queryable(spec, data) and spec is not None and data is not None \
            and spec.chart_type == "scatter":
        return _scatter_cells(spec, data, {"y": spec.y or "y", **labels}, title, saved)
    if _queryable(spec, data) and spec is not None and data is not None:
        sql, keys = _series_sql(spec, data, labels)
        value_label = labels.get("value", "value")
        notes = []
        if labels["x"] in frame and (frame[labels["x"]].astype(str) == "Other").any():
            notes.append("# Research Desk combined the smallest groups into “Other”; this "
                         "query lists every group,\n# so only the groups it kept are "
                         "compared below.\n")
        query = (f"# {_comment(title)}: the grouping Research Desk did, written as SQL over "
                 f"{_where_read(data)}.\n" + "".join(notes) + _run_code(data, sql))
        draw = (f"# Draw the chart again from its settings ({_comment(spec.chart_type)} chart)."
                "\n" + _px_call(spec, labels["x"], value_label,
                                labels.get("color") if spec.color else None, title)
                + "\nfig.show()")
        check = ("# Check: do these numbers match the ones saved in Research Desk?\n"
                 f"check_against_saved(result, DATA / {saved!r}, keys={keys!r}, "
                 f"values={[value_label]!r})")
        return [new_code_cell(query), new_code_cell(draw), new_code_cell(check)]
    if card.is_data_gone:
        reason = "its dataset was deleted"
    elif card.live is not None and data is None:
        reason = "its database could not be read when this was exported"
    elif data is None:
        reason = "its data file is not in this zip"
    elif rows.from_version:
        reason = ("Research Desk grouped its data into ranges or summaries, computed from "
                  "every row of the dataset version when this was exported")
    else:
        reason = "Research Desk grouped its data into ranges or summaries"
    load = (f"# {_comment(title)}: redrawn from the numbers Research Desk used ({reason}).\n"
            f"result = read_saved(DATA / {saved!r})\nresult")
    return [new_code_cell(load),
            new_code_cell(_saved_figure_code(spec, labels, title, list(frame.columns)))]


# --- Ask answers ---------------------------------------------------------------------------


def _answer_chart_code(spec: ChartSpec | None, title: str) -> str | None:
    if spec is None or not spec.x:
        return None
    lines = [f"# Draw the answer's chart again from its settings ({_comment(spec.chart_type)})."]
    keys = [spec.x] + ([spec.color] if spec.color else [])
    if spec.chart_type in SERIES_TYPES:
        if spec.y is None:
            lines.append(f"plot = result.groupby({keys!r}, dropna=False).size()"
                         ".reset_index(name='Rows')")
            value = "Rows"
        else:
            agg = {"distinct": "nunique"}.get(spec.agg, spec.agg)
            lines.append(f"plot = result.groupby({keys!r}, dropna=False)[{spec.y!r}]"
                         f".agg({agg!r}).reset_index()")
            value = spec.y
        kind = {"line": "line", "area": "area"}.get(spec.chart_type, "bar")
        color = f", color={spec.color!r}" if spec.color else ""
        lines.append(f"fig = px.{kind}(plot, x={spec.x!r}, y={value!r}{color}, "
                     f"color_discrete_sequence=COLOURS, title={title!r})")
    elif spec.chart_type == "scatter" and spec.y:
        lines.append(f"fig = px.scatter(result, x={spec.x!r}, y={spec.y!r}, "
                     f"color_discrete_sequence=COLOURS, title={title!r})")
    elif spec.chart_type == "histogram":
        lines.append(f"fig = px.histogram(result, x={spec.x!r}, "
                     f"color_discrete_sequence=COLOURS, title={title!r})")
    elif spec.chart_type == "box" and spec.y:
        lines.append(f"fig = px.box(result, x={spec.x!r}, y={spec.y!r}, "
                     f"color_discrete_sequence=COLOURS, title={title!r})")
    else:
        return None
    lines.append("fig.show()")
    return "\n".join(lines)


def _answer_check(rows: InsightRows, saved: str) -> list[Any]:
    frame = rows.frame
    values = [str(c) for c in frame.columns if frame[c].dtype.kind in "fiu"]
    keys = [str(c) for c in frame.columns if str(c) not in values]
    if not values:
        return []
    return [new_code_cell("# Check: does this result match the rows saved with the answer?\n"
                          f"check_against_saved(result, DATA / {saved!r}, keys={keys!r}, "
                          f"values={values!r})")]


def _live_answer_cells(rows: InsightRows, saved: str, data: DataFile, sql: str,
                       table: str) -> list[Any]:
    """Ask's SQL in the live table's database: checked and written in its SQL by the same
    guard as in the app (services.untrusted_sql.live_sql), over the table's real name."""
    if data.place is None:
        return []
    try:
        native = live_sql.to_dialect(sql, {table: data.place}, data.dialect)
    except ResearchDeskError:
        return []
    code = (f"# The SQL that answered the question, run in the database on "
            f"{_comment(data.label)} (Research Desk wrote it in that database's SQL).\n"
            f"sql = {_sql_literal_lines(_pretty(native, data.dialect))}\n"
            f"result = read_from({data.engine}, sql)\n"
            "result")
    return [new_code_cell(code), *_answer_check(rows, saved)]


def _answer_cells(card: InsightCard, rows: InsightRows, saved: str,
                  files: dict[tuple[int, int], DataFile]) -> list[Any]:
    sql = str(card.spec.get("sql") or "")
    tables = card.spec.get("tables") or {}
    data = _data_of(card, files)
    cells = []
    if sql and data is not None and data.is_live and isinstance(tables, dict) \
            and len(tables) == 1:
        cells += _live_answer_cells(rows, saved, data, sql, str(next(iter(tables))))
    elif sql and data is not None and isinstance(tables, dict) and len(tables) == 1:
        table = str(next(iter(tables)))
        create = f"CREATE OR REPLACE VIEW {quote_ident(table)} AS SELECT * FROM {data.view}"
        code = (f"# The SQL that answered the question; it reads the table {table!r}, which is "
                f"`{data.view}` here.\n"
                f"con.execute({create!r})\n"
                f"sql = {_sql_literal_lines(sql)}\nresult = con.sql(sql).df()\nresult")
        cells += [new_code_cell(code), *_answer_check(rows, saved)]
    if not cells:
        why = "its dataset was deleted" if card.is_data_gone else \
            "its database could not be read when this was exported" if card.live else \
            "its data file is not in this zip"
        shown = "\n".join(f"#     {_comment(line)}" for line in sql.splitlines()) if sql else ""
        code = (f"# The answer's result, from the rows saved with it ({why}).\n"
                + (f"# The SQL that was run:\n{shown}\n" if shown else "")
                + f"result = read_saved(DATA / {saved!r})\nresult")
        cells.append(new_code_cell(code))
    chart = _answer_chart_code(stored_chart_spec(card.spec.get("chart")), card.title)
    if chart:
        cells.append(new_code_cell(chart))
    return cells


# --- the notebook -----------------------------------------------------------------------------


def _intro(export: ItemExport, reads_databases: bool = False) -> str:
    item = export.item
    lines = [f"# {plain_markdown(item.title)}", ""]
    if item.description:
        lines += [plain_markdown(item.description), ""]
    facts = [f"Status: {STATUS_LABELS.get(item.status, item.status)}", f"owner: {item.owner}"]
    if item.tags:
        facts.append("tags: " + ", ".join(item.tags))
    facts.append(f"exported by {export.exported_by} on {export.exported_at:%d %b %Y %H:%M} UTC")
    lines += [plain_markdown(" · ".join(facts)), "",
              "This notebook reproduces the research item from **Research Desk**: it loads "
              "the data, reruns each query with DuckDB, redraws each chart with plotly and "
              "checks the numbers against the ones saved in the app. Research Desk generated "
              "it for you to run; the app never runs it.", "",
              "**What it needs:** Python 3.10 or newer with `pandas`, `duckdb`, `plotly` and "
              "`pyarrow` (`pip install pandas duckdb plotly pyarrow jupyter`). Keep the "
              "`data` folder from the zip next to this notebook, then run all cells from the "
              "top (in Jupyter: *Run ▸ Run All Cells*)."]
    if reads_databases:
        lines += ["", "Some of its data is read in a database (see *The live data*), so it "
                  "also needs `sqlalchemy` and `psycopg` (`pip install sqlalchemy "
                  "'psycopg[binary]'`) and an account that may read that database."]
    return "\n".join(lines)


def _live_cells(files: dict[tuple[int, int], DataFile],
                places: dict[int, LivePlace]) -> list[Any]:
    """One connection per database, then what each live table is."""
    live_files = [d for d in files.values() if d.is_live]
    if not live_files:
        return []
    cells = [new_markdown_cell(
        "## The live data\n\nSome data of this item was not copied into a file: it is read "
        "where it lives, in a database, each time this notebook runs, so the numbers are "
        "today's (the checks below say whether they still match the ones saved in Research "
        "Desk). You need an account that may read it: the notebook asks for the database's "
        "address, or reads it from the environment variable `RESEARCH_DESK_SOURCE_URL`.")]
    cells.append(new_code_cell("# A helper that reads from a database." + READ_FROM))
    connected: set[str] = set()
    for data in live_files:
        place = places[data.dataset_id]
        if place.engine not in connected:
            connected.add(place.engine)
            cells.append(new_code_cell(connect_code(place)))
        cells.append(new_markdown_cell(
            f"Dataset **{plain_markdown(data.name)}** is the table "
            f"{plain_markdown(data.label)}."))
    return cells


def _data_cells(files: dict[tuple[int, int], DataFile]) -> list[Any]:
    if files and all(d.is_live for d in files.values()):
        return []  # all of it is read in databases: "The live data" says how
    files = {k: d for k, d in files.items() if not d.is_live}
    if not files:
        return [new_markdown_cell("## The data\n\nNo dataset file came with this notebook "
                                  "(deleted, not shared with you, or too big); the cells below "
                                  "use the data saved with each chart or answer.")]
    cells = [new_markdown_cell("## The data\n\nEach dataset version used below becomes a "
                               "table that the queries read.")]
    for data in files.values():
        path = f"data/{data.file_name}"
        cells.append(new_code_cell(
            f"# Step 2: dataset {_comment(data.name)!r}, version {data.version}, as the table "
            f"`{data.view}`.\ncon.execute({_view_sql(data)!r})\n"
            f"con.sql('SELECT COUNT(*) AS rows FROM {data.view}').df()  # reads {path}"))
    return cells


def _view_sql(data: DataFile) -> str:
    return (f"CREATE OR REPLACE VIEW {data.view} AS SELECT * FROM "
            f"read_parquet('data/{data.file_name}')")


def _saved_name(index: int, card: InsightCard, suffix: str = "json") -> str:
    """The rows of one insight: `.json` exactly as Research Desk used them (what the
    notebook reads), `.csv` the same rows for a spreadsheet (formula-safe, so a name or
    value starting with = + - @ changes there; the notebook never reads it)."""
    return f"saved/{index:03d}-{slug(card.title, fallback='insight')}.{suffix}"


def _saved_json(frame: pd.DataFrame) -> str:
    unique = frame.loc[:, ~frame.columns.duplicated()]
    return unique.to_json(orient="records", date_format="iso", double_precision=15,
                          force_ascii=False, default_handler=str)


def build_notebook(export: ItemExport,
                   files: dict[tuple[int, int], DataFile] | None = None,
                   places: dict[int, LivePlace] | None = None) -> Any:
    """The notebook (an nbformat v4 node, validated). `places`: the live tables it reads
    in their databases (services.reports.notebook_live.plan_live)."""
    places = places or {}
    files = _plan_data(export, places) if files is None else files
    cells = [new_markdown_cell(_intro(export, bool(places))), new_code_cell(_SETUP.format(
        colours=json.dumps(list(SERIES_COLORS))))]
    notes = export.item.notes.strip()
    cells.append(new_markdown_cell("## Notes\n\n" + (safe_markdown(notes, shift_headings=2)
                                                       if notes
                                                       else "_No notes._")))
    cells += _data_cells(files)
    cells += _live_cells(files, places)
    cells.append(new_markdown_cell("## Saved charts and answers"))
    for index, card in enumerate(export.insights, start=1):
        heading = [f"### {index}. {plain_markdown(card.title)}", "",
                   f"{kind_label(card)} · saved by {plain_markdown(card.created_by)} on "
                   f"{card.created_at:%d %b %Y}. {plain_markdown(source_sentence(card))}"]
        if card.kind == "answer":
            question = plain_markdown(str(card.spec.get("question") or ""))
            heading += ["", f"**Question:** {question}", "",
                        answer_markdown(card.summary, card.spec, shift_headings=3)]
        elif card.summary:
            heading += ["", plain_markdown(card.summary)]  # a chart's words, built from cells
        rows = export.rows[card.id]
        if not rows.frame.columns.empty:
            heading += ["", f"**Rows:** {plain_markdown(rows.sentence)}"]
        cells.append(new_markdown_cell("\n".join(heading)))
        saved = _saved_name(index, card)
        if card.kind == "answer":
            cells += _answer_cells(card, rows, saved, files)
        else:
            cells += _chart_cells(card, rows, saved, files)
    notebook = new_notebook(cells=cells, metadata={
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"}})
    nbformat.validate(notebook)
    return notebook


def build_notebook_zip(export: ItemExport, places: dict[int, LivePlace] | None = None,
                       ) -> bytes:
    """notebook.ipynb, the dataset files it loads (data/*.parquet), the rows of each
    insight (data/saved/*.json for the notebook, *.csv for people) and a README, in one
    zip. A live table ships no file: the notebook reads it in its database."""
    files = _plan_data(export, places)
    notebook = build_notebook(export, files, places)
    stem = slug(export.item.title)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{stem}.ipynb", nbformat.writes(notebook))
        for data in files.values():
            if data.source is not None:
                archive.write(data.source, f"data/{data.file_name}")
        for index, card in enumerate(export.insights, start=1):
            frame = export.rows[card.id].frame
            if not frame.columns.empty:
                archive.writestr(f"data/{_saved_name(index, card)}", _saved_json(frame))
                archive.writestr(f"data/{_saved_name(index, card, 'csv')}",
                                 frame_csv_bytes(frame))
        archive.writestr("README.txt", _readme(stem))
    return buffer.getvalue()


def _readme(stem: str) -> str:
    return (f"{stem}.ipynb reproduces a research item from Research Desk.\n\n"
            "You need Python 3.10 or newer and: pip install pandas duckdb plotly pyarrow "
            "jupyter\nThen, in this folder: jupyter lab (or jupyter notebook), open "
            f"{stem}.ipynb and run all cells.\nKeep the data folder next to the notebook: "
            "data/*.parquet are the dataset versions, data/saved/*.json the rows Research "
            "Desk used for each chart or answer (the notebook checks its results against "
            "them, and draws from them when a dataset is not included); data/saved/*.csv "
            "are the same rows for a spreadsheet.\n")
