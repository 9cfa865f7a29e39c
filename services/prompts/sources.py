"""What a template is filled from: a research item's fields or a dataset row's columns.

A unit's inputs are captured when a batch is created (so an item edited later, or a new
dataset version, does not change a batch that already ran); its key names where it came from
(`item:12`, `row:345`), unique within a job.
"""

from pathlib import Path
from typing import Literal

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.access import dataset_access
from services.access.users import UserView
from services.data import datasets, duck
from services.data.dataset_checks import require_dataset
from services.data.sql_names import path_literal, quote_ident, read_columns, sql_literal
from services.errors import InvalidInput
from services.research.items import load_readable
from services.store.db import session_scope
from services.store.models import Dataset, DatasetVersion, Insight

ITEM_VARIABLES = ["title", "description", "notes", "insights", "tags", "status",
                  "dataset_summary"]
MAX_UNITS = 10_000
MAX_VALUE_CHARS = 20_000


class UnitInput(BaseModel):
    key: str
    label: str
    values: dict[str, str]


class RowSelection(BaseModel):
    """Which rows of a dataset version: all, those whose column contains a text, or a sample."""

    dataset_id: int
    version: int | None = None
    mode: Literal["all", "filter", "sample"] = "all"
    filter_column: str = ""
    filter_text: str = ""
    sample_size: int = 50
    seed: int = 7


# --- research items ----------------------------------------------------------------------

def _dataset_summary(session: Session, actor: UserView, insights: list[Insight]) -> str:
    """Name and size of each dataset the item's insights used that the person running the
    prompt may see. Someone else's private dataset is left out, as the item page leaves out
    its name: otherwise its name and size would reach Claude and the stored prompt, which
    every reader of the item (or of the batch) can read."""
    summaries = []
    for dataset_id in dict.fromkeys(i.dataset_id for i in insights if i.dataset_id):
        dataset = session.get(Dataset, dataset_id)
        if dataset is None or not dataset_access.can_see(actor, dataset):
            continue
        version = session.get(DatasetVersion, (dataset_id, dataset.current_version))
        shape = f"{version.rows:,} rows, {version.columns} columns" if version else ""
        summaries.append(f"{dataset.name} ({shape})")
    return "; ".join(summaries)


def item_inputs(actor: UserView, item_ids: list[int]) -> list[UnitInput]:
    """One unit per item, in the order given (duplicates once), with the item variables as
    this person may read them."""
    result = []
    with session_scope() as session:
        for item_id in dict.fromkeys(item_ids):
            item = load_readable(session, actor, item_id)
            insights = list(session.scalars(
                select(Insight).where(Insight.item_id == item_id).order_by(Insight.id)))
            listed = "\n".join(f"- {i.title}: {i.summary}".rstrip(": ") for i in insights)
            values = {"title": item.title, "description": item.description or "",
                      "notes": item.notes or "", "insights": listed,
                      "tags": ", ".join(item.tags or []),
                      "status": item.status,
                      "dataset_summary": _dataset_summary(session, actor, insights)}
            result.append(UnitInput(key=f"item:{item.id}", label=item.title[:300],
                                    values=values))
    return result


# --- dataset rows ------------------------------------------------------------------------

def dataset_columns(actor: UserView, dataset_id: int, version: int | None = None) -> list[str]:
    """The display names of a version's columns: the variables a row offers."""
    path = _version_path(actor, dataset_id, version)
    return [c.name for c in read_columns(path)]


def _version_path(actor: UserView, dataset_id: int, version: int | None) -> Path:
    require_dataset(actor, dataset_id, version)
    return Path(datasets.get_version(actor, dataset_id, version).parquet_path)


def row_inputs(actor: UserView, selection: RowSelection, wanted: list[str],
               *, limit: int = MAX_UNITS + 1) -> list[UnitInput]:
    """One unit per selected row, with the wanted columns as text (missing values as "")."""
    path = _version_path(actor, selection.dataset_id, selection.version)
    columns = {c.name: c for c in read_columns(path)}
    unknown = [name for name in wanted if name not in columns]
    if unknown:
        raise InvalidInput(f"The dataset has no column “{unknown[0]}”.")
    select_list = ", ".join(
        f"CAST({quote_ident(columns[n].sql_name)} AS VARCHAR) AS {quote_ident('v' + str(i))}"
        for i, n in enumerate(wanted)) or "NULL AS v"
    # the file's own row numbers (from 1): stable, so a row keeps its number between reads
    numbered = (f"SELECT file_row_number + 1 AS rd_row, * EXCLUDE (file_row_number) FROM "
                f"read_parquet({path_literal(path)}, file_row_number = true)")
    where = "TRUE"
    if selection.mode == "filter":
        column = columns.get(selection.filter_column)
        if column is None:
            raise InvalidInput("Pick the column to filter on.")
        if not selection.filter_text.strip():
            raise InvalidInput("Type the text the chosen rows should contain.")
        where = (f"contains(lower(CAST({quote_ident(column.sql_name)} AS VARCHAR)), "
                 f"lower({sql_literal(selection.filter_text.strip())}))")
    query = f"SELECT rd_row, {select_list} FROM ({numbered}) WHERE {where}"
    if selection.mode == "sample":
        if not 1 <= selection.sample_size <= MAX_UNITS:
            raise InvalidInput(f"A sample must have between 1 and {MAX_UNITS:,} rows.")
        query = (f"SELECT * FROM ({query}) USING SAMPLE reservoir({int(selection.sample_size)} "
                 f"ROWS) REPEATABLE ({int(selection.seed)})")
    query = f"SELECT * FROM ({query}) ORDER BY rd_row LIMIT {int(limit)}"
    rows = duck.query_rows(query)
    result = []
    for row in rows:
        values = {name: ("" if value is None else str(value)[:MAX_VALUE_CHARS])
                  for name, value in zip(wanted, row[1:], strict=False)}
        result.append(UnitInput(key=f"row:{row[0]}", label=f"Row {row[0]:,}", values=values))
    return result


def row_values(actor: UserView, dataset_id: int, version: int, wanted: list[str],
               row_numbers: list[int]) -> dict[int, dict[str, str]]:
    """The wanted columns (as text, missing as "") of the rows with these numbers (from 1),
    read as `row_inputs` reads them."""
    path = _version_path(actor, dataset_id, version)
    columns = {c.name: c for c in read_columns(path)}
    unknown = [name for name in wanted if name not in columns]
    if unknown:
        raise InvalidInput(f"The dataset has no column “{unknown[0]}”.")
    if not row_numbers:
        return {}
    select_list = ", ".join(
        f"CAST({quote_ident(columns[n].sql_name)} AS VARCHAR)" for n in wanted) or "NULL"
    numbers = ", ".join(str(int(n)) for n in sorted(set(row_numbers)))
    rows = duck.query_rows(
        f"SELECT file_row_number + 1, {select_list} FROM read_parquet({path_literal(path)}, "
        f"file_row_number = true) WHERE file_row_number + 1 IN ({numbers})")
    return {int(row[0]): {name: ("" if value is None else str(value)[:MAX_VALUE_CHARS])
                          for name, value in zip(wanted, row[1:], strict=False)}
            for row in rows}
