"""A recipe step that adds columns from stored answers: "add Claude's columns".

The step never calls Claude. It reads a small results file (row number → one value per new
column) written from results already stored, and joins it to the version it is applied to
in one DuckDB SELECT. Rows without a result (not chosen, failed, or empty) get missing
values. The step records where its answers came from (template, version, model), so a
version's history says how its columns were made.
"""

import os
from pathlib import Path
from typing import Any, Literal

import pandas as pd
from pydantic import BaseModel

from services.data import duck, duckdb_errors
from services.data.dataset_models import ColumnInfo, IngestResult, ReadOptions
from services.data.sql_names import (
    derive_sql_names,
    kv_metadata_clause,
    path_literal,
    quote_ident,
    read_columns,
)
from services.errors import InvalidInput

FieldKind = Literal["text", "number", "category", "yes_no"]
SQL_TYPES: dict[str, str] = {"number": "DOUBLE", "yes_no": "BOOLEAN", "category": "VARCHAR",
                             "text": "VARCHAR"}
FRIENDLY: dict[str, str] = {"number": "number", "yes_no": "true/false", "category": "category",
                            "text": "text"}
ROW = "rd_row"  # the results file's row number: 1 for the file's first row
_FILE_ROW = "__rd_file_row"


class NewColumn(BaseModel):
    field: str  # the output field it holds
    name: str  # the column's display name (unique in the dataset)
    kind: FieldKind


class AddClaudeColumns(BaseModel):
    """Adds `columns` from `results_file`; the rest records where the answers came from."""

    kind: Literal["add_claude_columns"] = "add_claude_columns"
    template_id: int
    template_name: str = ""
    template_version: int
    model: str
    inputs: dict[str, str]  # template variable → the column that filled it
    columns: list[NewColumn]
    results_file: str


def unique_names(existing: list[str], wanted: list[str]) -> list[str]:
    """`wanted` made unique against `existing` and each other, case-insensitively
    ("category" beside a "Category" column becomes "category_2")."""
    taken = {name.lower() for name in existing}
    result = []
    for name in wanted:
        candidate, n = name, 2
        while candidate.lower() in taken:
            candidate = f"{name}_{n}"
            n += 1
        taken.add(candidate.lower())
        result.append(candidate)
    return result


def describe(step: AddClaudeColumns) -> str:
    names = ", ".join(f"“{c.name}”" for c in step.columns)
    template = f"“{step.template_name}”" if step.template_name else f"#{step.template_id}"
    return (f"Add the column(s) {names} with Claude (template {template} version "
            f"{step.template_version}, model {step.model})")


def write_results(path: Path, columns: list[NewColumn], rows: dict[int, dict[str, Any]]) -> None:
    """The results file: one row per dataset row that has an answer (row numbers from 1)."""
    data: dict[str, list[Any]] = {ROW: list(rows)}
    for index, column in enumerate(columns):
        data[f"f{index}"] = [answer.get(column.field) for answer in rows.values()]
    frame = pd.DataFrame(data)
    casts = ", ".join([f"CAST({ROW} AS BIGINT) AS {ROW}"] + [
        f"CAST(f{i} AS {SQL_TYPES[c.kind]}) AS f{i}" for i, c in enumerate(columns)])
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        with duck.session(task=duckdb_errors.CLEANING) as con:
            con.register("answers", frame)
            con.execute(f"COPY (SELECT {casts} FROM answers) TO {path_literal(tmp)} "
                        "(FORMAT parquet)")
            os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _compile(parquet_path: Path, step: AddClaudeColumns) -> tuple[str, list[ColumnInfo]]:
    results = Path(step.results_file)
    if not parquet_path.is_file() or not results.is_file():
        raise InvalidInput("A file this step needs is missing; run the enrichment again.")
    existing = read_columns(parquet_path)
    clash = {c.name.lower() for c in existing} & {c.name.lower() for c in step.columns}
    if clash:
        raise InvalidInput(f"There is already a column called “{sorted(clash)[0]}”.")
    sql_names = derive_sql_names([c.sql_name for c in existing]
                                 + [c.name for c in step.columns])[len(existing):]
    added = ", ".join(f"r.f{i} AS {quote_ident(sql)}" for i, sql in enumerate(sql_names))
    query = (f"SELECT d.* EXCLUDE ({_FILE_ROW}), {added}\n"
             f"FROM (SELECT * EXCLUDE (file_row_number), file_row_number AS {_FILE_ROW} "
             f"FROM read_parquet("
             f"{path_literal(parquet_path)}, file_row_number = true)) AS d\n"
             f"LEFT JOIN read_parquet({path_literal(results)}) AS r "
             f"ON r.{ROW} = d.{_FILE_ROW} + 1\nORDER BY d.{_FILE_ROW}")
    infos = existing + [ColumnInfo(name=c.name, sql_name=sql, dtype=FRIENDLY[c.kind],
                                   duckdb_type=SQL_TYPES[c.kind])
                        for c, sql in zip(step.columns, sql_names, strict=True)]
    return query, infos


def step_sql(parquet_path: Path, step: AddClaudeColumns) -> str:
    """The step's SELECT, as the version history shows it."""
    return _compile(parquet_path, step)[0]


def apply(parquet_path: Path, step: AddClaudeColumns, dest: Path) -> IngestResult:
    """Writes the version with the new columns to `dest` (atomically)."""
    query, infos = _compile(parquet_path, step)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.tmp")
    try:
        with duck.session(task=duckdb_errors.CLEANING) as con:
            written = con.execute(f"COPY ({query}) TO {path_literal(tmp)} "
                                  f"(FORMAT parquet, {kv_metadata_clause(infos)})").fetchall()
            columns = read_columns(tmp, con)
            os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    return IngestResult(parquet_path=dest, rows=int(written[0][0]), columns=columns,
                        detected=ReadOptions(), format="recipe")
