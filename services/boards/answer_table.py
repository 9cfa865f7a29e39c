"""An Ask answer's rows as a table tile's spec: its question, SQL, columns and at most
TABLE_ROWS_MAX rows (boards.clean_tile checks it when the tile is added).

The rows are stored with the tile, as a research item keeps an answer's rows: an answer is a
moment's result, so the board shows what was answered, bounded like Ask's own snapshots.
"""

from datetime import datetime
from typing import Any

import pandas as pd

from services.boards.models import TABLE_ROWS_MAX, AnswerTable
from services.data.snapshots import snapshot_records


def answer_table_spec(question: str, sql: str | None, frame: pd.DataFrame,
                      answered_at: datetime) -> dict[str, Any]:
    """The first rows (within the snapshot byte cap too), dates as ISO text, so the spec
    stores as JSON on DuckDB and PostgreSQL alike."""
    columns = [str(c) for c in frame.columns[~frame.columns.duplicated()]]
    records = snapshot_records(frame, max_rows=TABLE_ROWS_MAX)
    rows = [[record.get(c) for c in columns] for record in records]
    table = AnswerTable(question=question.strip(), sql=sql or "", columns=columns, rows=rows,
                        answered_at=answered_at)
    return table.model_dump(mode="json")
