"""Ask on live datasets without a database: results typed as the sandbox types them, and
one place per question (files, or one data source)."""

import datetime as dt
from decimal import Decimal

import pandas as pd
import pytest

from services.claude import ask_live
from services.data.column_kinds import frame_kinds
from services.data.live_datasets import LiveTarget
from services.errors import InvalidInput
from services.sources.catalog import SourceView


def _target(dataset_id: int, source_id: int) -> LiveTarget:
    now = dt.datetime(2026, 1, 1)
    source = SourceView(id=source_id, name=f"s{source_id}", url="postgresql+psycopg://u@h/db",
                        schemas=["public"], origin="admin", has_password=False,
                        created_by="ada", created_at=now, updated_at=now)
    return LiveTarget(dataset_id=dataset_id, source=source, schema_name="public",
                      table_name="t")


def test_database_values_get_the_types_a_sandbox_result_has() -> None:
    frame = pd.DataFrame({
        "island": ["Biscoe", "Dream", None],
        "total": [Decimal("1.5"), None, Decimal("3")],
        "day": [dt.date(2024, 1, 2), None, dt.date(2024, 1, 3)],
        "at": pd.to_datetime(["2024-01-01T10:00+02:00"] * 3, utc=True),
        "rows": [1, 2, 3],
    })
    typed = ask_live.sandbox_types(frame)
    assert typed["total"].tolist()[::2] == [1.5, 3.0] and typed["total"].dtype.kind == "f"
    assert typed["day"].dtype.kind == "M" and typed["day"][0] == pd.Timestamp("2024-01-02")
    assert typed["at"][0] == pd.Timestamp("2024-01-01 08:00")
    assert frame_kinds(typed) == {"island": "text", "total": "number", "day": "date",
                                  "at": "date", "rows": "number"}


def test_one_question_reads_files_or_one_source() -> None:
    first, second = _target(1, 10), _target(2, 10)
    assert ask_live.one_place([None, None]) is None
    assert ask_live.one_place([first, second]) == first
    with pytest.raises(InvalidInput, match="snapshot of the live dataset"):
        ask_live.one_place([None, first])
    with pytest.raises(InvalidInput, match="one database at a time"):
        ask_live.one_place([first, _target(3, 11)])
