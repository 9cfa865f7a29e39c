"""Cleaning recipes: a list of steps compiled to one DuckDB SELECT (one CTE per step).

Steps name columns as users see them; the compiler maps them to the Parquet (SQL) names,
quotes every identifier and writes every user value as an escaped literal cast to the
column's type, so no user text is ever spliced into SQL raw. `apply_recipe` writes the
result to a temporary file and renames it, so an interrupted run leaves no new version.
"""

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from services.data import display_text, duck, duckdb_errors, text_reading
from services.data.column_kinds import friendly_type, is_moment, is_number, is_text
from services.data.dataset_models import (
    Cast,
    ColumnInfo,
    ConvertToCategory,
    DropColumns,
    DropDuplicates,
    DropMissing,
    FilterRows,
    FlagMissing,
    Impute,
    IngestResult,
    MapCategories,
    NormaliseCase,
    ParseDate,
    ParseNumber,
    ReadOptions,
    RenameColumn,
    Step,
    StepEffect,
    StepExample,
    StepPreview,
    Trim,
)
from services.data.sql_names import (
    derive_sql_names,
    kv_metadata_clause,
    path_literal,
    quote_ident,
    read_columns,
    sql_literal,
)
from services.errors import InvalidInput

ROW_ID = "__rd_row"
CAST_TYPES = {"number": "DOUBLE", "whole number": "BIGINT", "text": "VARCHAR", "date": "DATE",
              "date and time": "TIMESTAMP", "true/false": "BOOLEAN"}
SAMPLE_VALUES = 2_000  # distinct values a number/date step looks at to decide the format
_OPS = {"=": "=", "!=": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}


@dataclass
class _State:
    """The columns after the steps compiled so far (display name, SQL name, type)."""

    columns: list[ColumnInfo]
    categories: set[str] = field(default_factory=set)
    has_row_id: bool = False
    replaced: dict[str, str] = field(default_factory=dict)  # by the step just compiled
    replacements: list[dict[str, str]] = field(default_factory=list)  # of every step
    sample: Callable[[str], list[str]] | None = None  # text values of a column, so far

    def values(self, column: ColumnInfo) -> list[str]:
        return self.sample(column.sql_name) if self.sample else []

    def find(self, name: str) -> ColumnInfo:
        for column in self.columns:
            if column.name == name:
                return column
        raise InvalidInput(f"There is no column called “{name}”; check the step's column name.")


def describe_step(step: Step) -> str:
    """A plain-language sentence for the recipe list and the version history."""
    def names(columns: list[str] | None, everything: str) -> str:
        return everything if not columns else ", ".join(f"“{c}”" for c in columns)

    match step:
        case DropMissing():
            return f"Remove rows with a missing value in {names(step.columns, 'any column')}"
        case Impute(method="constant"):
            return f"Fill missing values in “{step.column}” with “{step.value}”"
        case Impute():
            how = {"mean": "the average", "median": "the median", "mode": "the most common value"}
            return f"Fill missing values in “{step.column}” with {how[step.method]}"
        case FlagMissing():
            return f"Add a column that marks rows where “{step.column}” is missing"
        case DropDuplicates():
            return f"Remove repeated rows (same {names(step.columns, 'values in every column')})"
        case Trim():
            return f"Remove spaces at the start and end of {names(step.columns, '')}"
        case NormaliseCase():
            case_words = {"lower": "lower case", "upper": "upper case", "title": "Title Case"}
            return f"Write {names(step.columns, '')} in {case_words[step.case]}"
        case MapCategories():
            pairs = list(step.mapping.items())
            shown = ", ".join(f"“{a}” → “{b}”" for a, b in pairs[:3])
            more = f" and {len(pairs) - 3} more" if len(pairs) > 3 else ""
            return f"Replace values in “{step.column}”: {shown}{more}"
        case ParseNumber() if step.decimal is None:
            return f"Turn “{step.column}” into numbers (written as its values show)"
        case ParseNumber():
            mark = "comma" if step.decimal == "," else "point"
            return f"Turn “{step.column}” into numbers (decimal {mark})"
        case ParseDate():
            written = f" written as {step.format}" if step.format else \
                " (in the one order its values show)"
            return f"Turn “{step.column}” into dates{written}"
        case Cast():
            return f"Change the type of “{step.column}” to {step.to}"
        case DropColumns():
            return f"Remove the column(s) {names(step.columns, '')}"
        case RenameColumn():
            return f"Rename “{step.column}” to “{step.new_name}”"
        case FilterRows():
            return f"Keep rows where “{step.column}” {_op_words(step)}"
        case ConvertToCategory():
            return f"Treat “{step.column}” as a category"
    raise InvalidInput("That cleaning step is not known.")


def _op_words(step: FilterRows) -> str:
    words = {"=": "is", "!=": "is not", "<": "is less than", "<=": "is at most",
             ">": "is more than", ">=": "is at least", "contains": "contains",
             "not_contains": "does not contain"}
    if step.op == "is_missing":
        return "is missing"
    if step.op == "is_not_missing":
        return "has a value"
    return f"{words[step.op]} “{_as_written(step.value)}”"


def _as_written(value: str | float | int | bool | None) -> str | float | int | bool | None:
    """A whole number as a person writes it (12, not 12.0); anything else unchanged."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def steps_sql(parquet_path: Path, steps: list[Step]) -> list[str]:
    """The SELECT of each step (reading the previous step), as shown in the history."""
    _, selects = _compile(parquet_path, steps)
    return selects[1:]


def recipe_sql(parquet_path: Path, steps: list[Step]) -> str:
    """The whole recipe as one readable SQL query."""
    state, selects = _compile(parquet_path, steps)
    return _assemble(state, selects)


def apply_recipe(parquet_path: Path, steps: list[Step], dest: Path) -> IngestResult:
    """Run the recipe and write the result to `dest` (atomically)."""
    state, selects = _compile(parquet_path, steps)
    query = _assemble(state, selects)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.tmp")
    try:
        with duck.session(task=duckdb_errors.CLEANING) as con:
            written = con.execute(
                f"COPY ({query}) TO {path_literal(tmp)} "
                f"(FORMAT parquet, {kv_metadata_clause(_final_columns(state))})"
            ).fetchall()
            columns = read_columns(tmp, con)
            os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    return IngestResult(parquet_path=dest, rows=int(written[0][0]), columns=columns,
                        detected=ReadOptions(), format="recipe")


# --- compiling --------------------------------------------------------------------------

def _final_columns(state: _State) -> list[ColumnInfo]:
    return [c.model_copy(update={"dtype": "category"}) if c.sql_name in state.categories else c
            for c in state.columns]


def _assemble(state: _State, selects: list[str]) -> str:
    ctes = ",\n".join(f"step_{i} AS (\n  {sql}\n)" for i, sql in enumerate(selects))
    last = f"step_{len(selects) - 1}"
    if state.has_row_id:
        return f"WITH {ctes}\nSELECT * EXCLUDE ({ROW_ID}) FROM {last} ORDER BY {ROW_ID}"
    return f"WITH {ctes}\nSELECT * FROM {last}"


def _compile(parquet_path: Path, steps: list[Step]) -> tuple[_State, list[str]]:
    if not parquet_path.is_file():
        raise InvalidInput("That dataset version's file is missing; restore an earlier version.")
    with duck.session(task=duckdb_errors.CLEANING) as con:
        columns = read_columns(parquet_path, con)
        state = _State(columns=columns,
                       categories={c.sql_name for c in columns if c.dtype == "category"})
        state.has_row_id = any(isinstance(s, DropDuplicates) for s in steps)
        source = path_literal(parquet_path)
        base = (f"SELECT * EXCLUDE (file_row_number), file_row_number AS {ROW_ID} "
                f"FROM read_parquet({source}, file_row_number = true)" if state.has_row_id
                else f"SELECT * FROM read_parquet({source})")
        selects = [base]

        def sample(sql_name: str) -> list[str]:
            ctes = ",\n".join(f"step_{i} AS ({sql})" for i, sql in enumerate(selects))
            col = quote_ident(sql_name)
            rows = con.execute(
                f"WITH {ctes} SELECT DISTINCT v FROM (SELECT trim(CAST({col} AS VARCHAR)) AS v "
                f"FROM step_{len(selects) - 1} WHERE {col} IS NOT NULL LIMIT 50000) "
                f"WHERE v <> '' LIMIT {SAMPLE_VALUES}").fetchall()
            return [str(r[0]) for r in rows]

        state.sample = sample
        state.replacements = []
        for index, step in enumerate(steps, start=1):
            state.replaced = {}
            selects.append(_step_select(step, state, f"step_{index - 1}"))
            state.replacements.append(state.replaced)
            _refresh_types(con, state, selects, index, step)
        state.sample = None
        return state, selects


def _refresh_types(con: duckdb.DuckDBPyConnection, state: _State, selects: list[str],
                   index: int, step: Step) -> None:
    """Bind the chain so far (no data is read) to learn the new column types."""
    ctes = ",\n".join(f"step_{i} AS ({sql})" for i, sql in enumerate(selects))
    try:
        schema = con.execute(f"DESCRIBE WITH {ctes} SELECT * FROM step_{index}").fetchall()
    except duckdb.Error as error:
        raise duckdb_errors.translate(
            error, duckdb_errors.cleaning_step(index, describe_step(step))) from error
    by_sql = {c.sql_name: c for c in state.columns}
    state.columns = [by_sql[str(r[0])].model_copy(update={
        "duckdb_type": str(r[1]), "dtype": friendly_type(str(r[1]))})
        for r in schema if str(r[0]) != ROW_ID]


def _new_sql_name(state: _State, display: str) -> str:
    taken = [c.sql_name for c in state.columns]
    return derive_sql_names([*taken, display])[-1]


def _check_new_name(state: _State, display: str) -> str:
    name = " ".join(display.split())
    if not name:
        raise InvalidInput("A column name cannot be blank.")
    if any(c.name.lower() == name.lower() for c in state.columns):
        raise InvalidInput(f"There is already a column called “{name}”; pick another name.")
    return name


def _replace(state: _State, prev: str, replacements: dict[str, str]) -> str:
    state.replaced = dict(replacements)
    parts = ", ".join(f"{expr} AS {quote_ident(sql)}" for sql, expr in replacements.items())
    return f"SELECT * REPLACE ({parts}) FROM {prev}"


def _text_columns(state: _State, names: list[str]) -> list[ColumnInfo]:
    columns = [state.find(n) for n in names]
    for column in columns:
        if not is_text(column.dtype):
            raise InvalidInput(f"“{column.name}” is not text, so this step does not apply to it.")
    if not columns:
        raise InvalidInput("Pick at least one column for this step.")
    return columns


def _step_select(step: Step, state: _State, prev: str) -> str:  # noqa: C901 - a flat dispatch
    match step:
        case DropMissing():
            targets = [state.find(n) for n in step.columns] if step.columns else state.columns
            condition = " AND ".join(f"{quote_ident(c.sql_name)} IS NOT NULL" for c in targets)
            return f"SELECT * FROM {prev} WHERE {condition or 'TRUE'}"
        case Impute():
            return _impute(step, state, prev)
        case FlagMissing():
            column = state.find(step.column)
            display = _check_new_name(state, step.new_column or f"{column.name} is missing")
            sql_name = _new_sql_name(state, display)
            state.columns.append(ColumnInfo(name=display, sql_name=sql_name, dtype="true/false"))
            return (f"SELECT *, ({quote_ident(column.sql_name)} IS NULL) AS "
                    f"{quote_ident(sql_name)} FROM {prev}")
        case DropDuplicates():
            targets = [state.find(n) for n in step.columns] if step.columns else state.columns
            keys = ", ".join(quote_ident(c.sql_name) for c in targets)
            return (f"SELECT * FROM {prev} QUALIFY row_number() OVER (PARTITION BY {keys} "
                    f"ORDER BY {ROW_ID}) = 1")
        case Trim():
            columns = _text_columns(state, step.columns)
            return _replace(state, prev, {c.sql_name: f"trim({quote_ident(c.sql_name)})"
                                   for c in columns})
        case NormaliseCase():
            columns = _text_columns(state, step.columns)
            return _replace(state, prev, {c.sql_name: _case_expr(quote_ident(c.sql_name), step.case)
                                   for c in columns})
        case MapCategories():
            column = state.find(step.column)
            if not step.mapping:
                raise InvalidInput("The replacement list is empty; add at least one value.")
            c = quote_ident(column.sql_name)
            text = f"CAST({c} AS VARCHAR)"
            whens = " ".join(f"WHEN {sql_literal(a)} THEN {sql_literal(b)}"
                             for a, b in step.mapping.items())
            return _replace(state, prev, {column.sql_name: f"CASE {text} {whens} ELSE {text} END"})
        case ParseNumber():
            column = state.find(step.column)
            if is_number(column.dtype):
                return f"SELECT * FROM {prev}"  # already numbers: nothing to read
            fmt = text_reading.decide_column_number(state.values(column), step.decimal)
            return _replace(state, prev, {column.sql_name: text_reading.number_sql(
                quote_ident(column.sql_name), fmt, any_thousands=True)})
        case ParseDate():
            column = state.find(step.column)
            if is_moment(column.dtype):
                return f"SELECT * FROM {prev}"  # already dates: nothing to parse
            return _replace(state, prev, {column.sql_name: _date_expr(
                quote_ident(column.sql_name), step.format, state.values(column))})
        case Cast():
            column = state.find(step.column)
            target = CAST_TYPES[step.to]
            c = quote_ident(column.sql_name)
            if is_text(column.dtype) and is_number(step.to):  # text is read by text_reading
                fmt = text_reading.decide_column_number(state.values(column))
                value = text_reading.number_sql(c, fmt, any_thousands=True)
                if step.to == "whole number":  # 1.5 is not a whole number: missing, counted
                    value = f"(CASE WHEN {value} = floor({value}) THEN CAST({value} AS BIGINT) END)"
                return _replace(state, prev, {column.sql_name: value})
            if is_text(column.dtype) and is_moment(step.to):
                expr = _date_expr(c, None, state.values(column))
                return _replace(state, prev, {column.sql_name: f"CAST({expr} AS {target})"})
            return _replace(state, prev, {column.sql_name: f"TRY_CAST({c} AS {target})"})
        case DropColumns():
            targets = [state.find(n) for n in step.columns]
            if not targets:
                raise InvalidInput("Pick at least one column to remove.")
            if len(targets) >= len(state.columns):
                raise InvalidInput("A dataset needs at least one column; keep one.")
            dropped = {c.sql_name for c in targets}
            state.columns = [c for c in state.columns if c.sql_name not in dropped]
            listed = ", ".join(quote_ident(s) for s in sorted(dropped))
            return f"SELECT * EXCLUDE ({listed}) FROM {prev}"
        case RenameColumn():
            column = state.find(step.column)
            display = _check_new_name(state, step.new_name)
            others = _State(columns=[c for c in state.columns if c is not column])
            sql_name = _new_sql_name(others, display)
            state.columns = [c.model_copy(update={"name": display, "sql_name": sql_name})
                             if c is column else c for c in state.columns]
            if column.sql_name in state.categories:
                state.categories.add(sql_name)
            if sql_name == column.sql_name:
                return f"SELECT * FROM {prev}"
            return (f"SELECT * RENAME ({quote_ident(column.sql_name)} AS "
                    f"{quote_ident(sql_name)}) FROM {prev}")
        case FilterRows():
            return f"SELECT * FROM {prev} WHERE {_filter_condition(step, state)}"
        case ConvertToCategory():
            column = state.find(step.column)
            state.categories.add(column.sql_name)
            return _replace(state, prev, {column.sql_name:
                                   f"CAST({quote_ident(column.sql_name)} AS VARCHAR)"})
    raise InvalidInput("That cleaning step is not known.")


def _impute(step: Impute, state: _State, prev: str) -> str:
    column = state.find(step.column)
    c = quote_ident(column.sql_name)
    if step.method in ("mean", "median") and not is_number(column.dtype):
        raise InvalidInput(f"“{column.name}” is not a number, so it has no {step.method}; "
                           "use the most common value or a fixed value instead.")
    if step.method == "constant":
        if step.value is None:
            raise InvalidInput("Give the value to fill in.")
        fill = f"CAST({sql_literal(step.value)} AS {column.duckdb_type or 'VARCHAR'})"
    else:
        aggregate = {"mean": f"avg({c})", "median": f"median({c})", "mode": f"mode({c})"}
        fill = f"(SELECT {aggregate[step.method]} FROM {prev})"
    return _replace(state, prev, {column.sql_name: f"coalesce({c}, {fill})"})


def _case_expr(c: str, case: str) -> str:
    if case == "lower":
        return f"lower({c})"
    if case == "upper":
        return f"upper({c})"
    return (f"array_to_string(list_transform(string_split({c}, ' '), "
            f"lambda w: upper(w[1]) || lower(w[2:])), ' ')")


def _date_expr(c: str, fmt: str | None, values: list[str]) -> str:
    """One format for the whole column: the one given, else the one its values show
    (text_reading), so no column is read in two orders row by row."""
    if not fmt:
        decision = text_reading.decide_date_format(
            [v for v in values if not text_reading.is_missing_marker(v)])
        fmt = decision.format if decision else "%Y-%m-%d"
    return text_reading.date_sql(c, fmt)


def _filter_condition(step: FilterRows, state: _State) -> str:
    column = state.find(step.column)
    c = quote_ident(column.sql_name)
    if step.op == "is_missing":
        return f"{c} IS NULL"
    if step.op == "is_not_missing":
        return f"{c} IS NOT NULL"
    if step.value is None:
        raise InvalidInput("Give the value to compare with.")
    if step.op in ("contains", "not_contains"):
        test = f"contains(lower(CAST({c} AS VARCHAR)), lower({sql_literal(str(step.value))}))"
        return test if step.op == "contains" else f"({c} IS NULL OR NOT {test})"
    value = _filter_value(step, column)
    if isinstance(value, float | int) and not isinstance(value, bool):
        return f"{c} {_OPS[step.op]} {sql_literal(value)}"  # 12.5 against whole numbers too
    return f"{c} {_OPS[step.op]} CAST({sql_literal(value)} AS {column.duckdb_type or 'VARCHAR'})"


def _filter_value(step: FilterRows, column: ColumnInfo) -> str | float | int | bool:
    """The value to compare with, read as the column's type by text_reading."""
    value = step.value
    if is_text(column.dtype) and isinstance(value, float | int) and not isinstance(value, bool):
        # a text column compares text: the number 12 (or 12.0, as an older form saved
        # "code is 12") means the text "12"
        return str(int(value)) if float(value).is_integer() else str(value)
    if not isinstance(value, str):
        return value  # type: ignore[return-value]  # None was refused above
    read = text_reading.typed_value(value, column.dtype)
    if read is None:
        one, many = _TYPE_WORDS.get(column.dtype, ("a value", "values"))
        raise InvalidInput(f"“{value}” is not {one}, and “{column.name}” holds {many}: type "
                           f"{one} to compare with.")
    return read


_TYPE_WORDS = {"number": ("a number", "numbers"), "whole number": ("a number", "numbers"),
               "date": ("a date", "dates"), "date and time": ("a date", "dates"),
               "true/false": ("yes or no", "yes/no values")}


# --- what a recipe would do, before it is applied -----------------------------------------

EXAMPLES_PER_STEP = 3


def preview_steps(parquet_path: Path, steps: list[Step], *, examples: int = EXAMPLES_PER_STEP,
                  ) -> StepPreview:
    """For each step: how many values it changes, how many values with content it could
    not read (they would become missing) and how many rows it removes, with a few
    before/after examples (unreadable ones first). Nothing is written."""
    state, selects = _compile(parquet_path, steps)
    display = {c.sql_name: c.name for c in read_columns(parquet_path)}
    preview = StepPreview()
    with duck.session(task=duckdb_errors.CLEANING_PREVIEW) as con:
        for index, step in enumerate(steps, start=1):
            ctes = "WITH " + ",\n".join(f"step_{i} AS ({sql})"
                                        for i, sql in enumerate(selects[:index + 1]))
            effect = StepEffect(step=index, description=describe_step(step),
                                what=_unreadable_words(step))
            replaced = state.replacements[index - 1]
            if not replaced:
                before, after = con.execute(
                    f"{ctes} SELECT (SELECT count(*) FROM step_{index - 1}), "
                    f"(SELECT count(*) FROM step_{index})").fetchone() or (0, 0)
                effect.rows_before = int(before)
                effect.rows_removed = max(0, int(before) - int(after))
                if effect.rows_removed:
                    effect.values_removed = _values_lost(con, ctes, index)
            for sql_name, expr in replaced.items():
                name = display.get(sql_name, sql_name)
                changed, unreadable, shown = _column_effect(
                    con, ctes, f"step_{index - 1}", quote_ident(sql_name), expr, examples)
                effect.changed += changed
                effect.unreadable += unreadable
                preview.examples += [StepExample(step=index, column=name, before=b, after=a,
                                                 unreadable=u) for b, a, u in shown]
            preview.effects.append(effect)
    return preview


def _values_lost(con: duckdb.DuckDBPyConnection, ctes: str, index: int) -> int:
    """Values with content that a row-removing step takes away (its columns stay the same)."""
    counts = [con.execute(f"{ctes} SELECT count(COLUMNS(*)) FROM step_{i}").fetchone() or ()
              for i in (index - 1, index)]
    return sum(int(n) for n in counts[0]) - sum(int(n) for n in counts[1])


def _column_effect(con: duckdb.DuckDBPyConnection, ctes: str, prev: str, column: str,
                   expr: str, examples: int,
                   ) -> tuple[int, int, list[tuple[str | None, str | None, bool]]]:
    # "1234" → 1234.0 is the same value in another type: not a change
    pairs = (f"raw AS (SELECT CAST({column} AS VARCHAR) AS b, CAST({expr} AS VARCHAR) AS a "
             f"FROM {prev}), pairs AS (SELECT b, a, b IS DISTINCT FROM a AND NOT "
             "coalesce(TRY_CAST(b AS DOUBLE) = TRY_CAST(a AS DOUBLE), false) AS changed "
             "FROM raw)")
    # a marker such as "NA" or "N/A" was missing already: blanking it loses nothing
    lost = f"(NOT {text_reading.missing_marker_sql('b')} AND a IS NULL)"
    row = con.execute(
        f"{ctes}, {pairs} SELECT count(*) FILTER (WHERE changed), "
        f"count(*) FILTER (WHERE {lost}) FROM pairs").fetchone()
    changed, unreadable = (int(row[0]), int(row[1])) if row else (0, 0)
    shown = con.execute(
        f"{ctes}, {pairs} (SELECT b, a, true FROM pairs WHERE {lost} LIMIT {examples}) "
        f"UNION ALL (SELECT b, a, false FROM pairs WHERE changed AND NOT {lost} "
        f"LIMIT {examples})").fetchall()
    return changed, unreadable, [(r[0], r[1], bool(r[2])) for r in shown]


def _unreadable_words(step: Step) -> str:
    match step:
        case ParseNumber() | Cast(to="number") | Cast(to="whole number"):
            return "numbers"
        case ParseDate() | Cast(to="date") | Cast(to="date and time"):
            return "dates"
    return "values"


def reads_values(step: Step) -> bool:
    """Steps that read text as numbers or dates: values they cannot read become missing."""
    return isinstance(step, ParseNumber | ParseDate | Cast)


def unreadable_sentence(parquet_path: Path, steps: list[Step]) -> str:
    """“2 values could not be read and became missing.” for a recipe that blanks values it
    cannot read; "" when it blanks none (or reads no values at all)."""
    if not any(reads_values(step) for step in steps):
        return ""
    count = preview_steps(parquet_path, steps, examples=0).unreadable
    if not count:
        return ""
    return f"{count:,} value{'s' if count != 1 else ''} could not be read and became missing."


def preview_sentence(preview: StepPreview) -> str:
    """“3 values change; 12 values can't be read and would become missing; 2 rows go.”"""
    parts = [f"{preview.changed:,} value{'s' if preview.changed != 1 else ''} changed"]
    if preview.unreadable:
        parts.append(f"{preview.unreadable:,} value{'s' if preview.unreadable != 1 else ''} "
                     "could not be read and became missing")
    if preview.rows_removed:
        parts.append(f"{preview.rows_removed:,} row{'s' if preview.rows_removed != 1 else ''} "
                     "removed")
    return "; ".join(parts) + "."


def removes_rows(step: Step) -> bool:
    return isinstance(step, DropMissing | DropDuplicates)


def fix_label(step: Step, effect: StepEffect) -> str:
    """What a one-click fix does, on its button: a fix that removes rows says how many and
    what goes with them, not only in a tooltip."""
    if not effect.rows_removed:
        return "Add fix"
    rows = f"{effect.rows_removed:,} row{'s' if effect.rows_removed != 1 else ''}"
    pct = display_text.share(effect.rows_removed, effect.rows_before)
    match step:
        case DropDuplicates():
            verb = "repeats" if effect.rows_removed == 1 else "repeat"
            return f"Remove {rows} ({pct}) that {verb} another row — nothing else is lost"
        case DropMissing(columns=[column]):
            kept = effect.values_removed
            others = f"{kept:,} other value{'s' if kept != 1 else ''} go with them" if kept \
                else "no other values go with them"
            return f"Remove {rows} ({pct}) with no {column} — {others}"
    gone = effect.values_removed
    return f"Remove {rows} ({pct}) — {gone:,} value{'s' if gone != 1 else ''} go with them"
