"""The kind of a column: one home, services.data.column_kinds."""

import datetime as dt
import typing

import duckdb
import pandas as pd
import pytest

from services.data import column_kinds
from services.data.cleaning import CAST_TYPES
from services.data.column_kinds import (
    chart_kind,
    duckdb_chart_kind,
    frame_kinds,
    friendly_type,
    is_moment,
    is_number,
    is_text,
)
from services.data.dataset_models import Cast, FriendlyType
from tests.unit.one_home import files_matching


@pytest.mark.parametrize(("duckdb_type", "friendly", "kind"), [
    ("BIGINT", "whole number", "number"), ("UTINYINT", "whole number", "number"),
    ("HUGEINT", "whole number", "number"), ("DOUBLE", "number", "number"),
    ("DECIMAL(18,3)", "number", "number"), ("FLOAT", "number", "number"),
    ("VARCHAR", "text", "text"), ("ENUM('a', 'b')", "text", "text"),
    ("DATE", "date", "date"), ("TIMESTAMP", "date and time", "date"),
    ("TIMESTAMP WITH TIME ZONE", "date and time", "date"),
    ("TIMESTAMP_NS", "date and time", "date"),
    ("TIME", "time", "text"), ("BOOLEAN", "true/false", "boolean"),
    ("INTEGER[]", "other", "text"), ("STRUCT(a INTEGER)", "other", "text"),
    ("BLOB", "other", "text"), ("INTERVAL", "other", "text"),
])
def test_a_duckdb_type_has_one_type_for_people_and_one_chart_kind(
        duckdb_type: str, friendly: str, kind: str) -> None:
    assert friendly_type(duckdb_type) == friendly
    assert duckdb_chart_kind(duckdb_type) == kind == chart_kind(friendly)


def test_the_families_of_types() -> None:
    assert set(typing.get_args(FriendlyType)) == {
        *column_kinds.NUMBER_TYPES, *column_kinds.TEXT_TYPES, *column_kinds.ORDERED_TYPES,
        "true/false", "other"}
    assert is_number("whole number") and is_number("number") and not is_number("text")
    assert is_text("category") and not is_text("time")
    assert is_moment("date and time") and not is_moment("time")
    assert chart_kind("category") == "text" and chart_kind("time") == "text"
    assert column_kinds.CAST_TARGETS == typing.get_args(Cast.model_fields["to"].annotation)
    assert tuple(CAST_TYPES) == column_kinds.CAST_TARGETS


def test_an_answer_table_gets_the_same_kinds_as_a_stored_file(tmp_path: object) -> None:
    frame = pd.DataFrame({
        "n": [1, 2], "x": [1.5, None], "t": ["a", "b"], "flag": [True, False],
        "when": pd.to_datetime(["2024-01-01", "2024-02-01"]),
        "day": [dt.date(2024, 1, 1), dt.date(2024, 1, 2)],
    })
    with duckdb.connect() as con:
        con.register("f", frame)
        stored = {str(r[0]): duckdb_chart_kind(str(r[1]))
                  for r in con.execute("DESCRIBE SELECT * FROM f").fetchall()}
    assert frame_kinds(frame) == stored == {"n": "number", "x": "number", "t": "text",
                                            "flag": "boolean", "when": "date", "day": "date"}


def test_kinds_are_decided_only_here() -> None:
    home = ["services/data/column_kinds.py"]
    assert files_matching(r"def (friendly_type|frame_kinds|profile_kind|_kind)\(") == home
    assert files_matching(r"\"UBIGINT\"") == home
    assert files_matching(r"\(\"number\", \"whole number\"\)") == home
    assert files_matching(r"\(\"date\", \"date and time\"") == home
    assert files_matching(r"\(\"text\", \"category\"\)") == home
