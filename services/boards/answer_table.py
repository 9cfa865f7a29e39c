"""An Ask answer's table as a board tile: its question, SQL, columns and at most 500 rows.

The rows are stored with the tile (as a research item keeps an answer's rows): an answer is a
moment's result, so the board shows what was answered, bounded like Ask's own snapshots.
"""

from datetime import datetime
from typing import Any

import pandas as pd
from pydantic import BaseModel, Field, ValidationError

from services.data.snapshots import snapshot_records
from services.errors import InvalidInput

TABLE_ROWS_MAX = 500
QUESTION_MAX = 4_000
SQL_MAX = 100_000
Cell = str | int | float | bool | None


class AnswerTable(BaseModel):
    """board_tiles.spec of a table tile (see /work/briefs/tiles_interface.md)."""

    question: str = Field(min_length=1, max_length=QUESTION_MAX)
    sql: str = Field(default="", max_length=SQL_MAX)
    columns: list[str] = Field(default_factory=list)
    rows: list[list[Cell]] = Field(default_factory=list, max_length=TABLE_ROWS_MAX)
    answered_at: datetime


def answer_table_spec(question: str, sql: str | None, frame: pd.DataFrame,
                      answered_at: datetime) -> dict[str, Any]:
    """The tile's spec from an answer's rows: the first 500 (and within the snapshot byte
    cap), dates as ISO text, so it stores as JSON on DuckDB and PostgreSQL alike."""
    columns = [str(c) for c in frame.columns[~frame.columns.duplicated()]]
    records = snapshot_records(frame, max_rows=TABLE_ROWS_MAX)
    rows = [[record.get(c) for c in columns] for record in records]
    table = AnswerTable(question=question.strip() or "An answer from Ask", sql=sql or "",
                        columns=columns, rows=rows, answered_at=answered_at)
    return table.model_dump(mode="json")


def clean_table_spec(raw: dict[str, Any]) -> dict[str, Any]:
    """The spec as stored, or `InvalidInput` in one sentence."""
    try:
        table = AnswerTable.model_validate(raw)
    except ValidationError as error:
        raise InvalidInput("This table cannot be added: it needs the question and at most "
                           f"{TABLE_ROWS_MAX} rows of the answer.") from error
    if any(len(row) != len(table.columns) for row in table.rows):
        raise InvalidInput("This table cannot be added: its rows do not match its columns.")
    return table.model_dump(mode="json")
