"""display_text.table_for_people, sql_for_people and counted: tables, stored SQL and counts
as a person reads them (issue 19.11)."""

import warnings

import numpy as np
import pandas as pd

from services.data.display_text import (
    counted,
    frame_for_people,
    sql_for_people,
    table_for_people,
)


def test_numbers_and_dates_stay_sortable_and_are_rounded_as_number_writes_them() -> None:
    frame = pd.DataFrame({
        "amount": [5076.0163, np.nan, 12.5],
        "share": [0.000123456, 0.5, 0.25],
        "year": [2012, 2013, 2014],
        "day": pd.to_datetime(["2012-01-01", None, "2012-01-03"]),
        "seen": pd.to_datetime(["2012-01-01 06:00:00.5", "2012-01-01 07:30", "2012-01-02"],
                               format="ISO8601"),
        "kind": ["wet", None, "dry"],
        "ok": [True, False, True],
    })
    table = table_for_people(frame)
    assert table.kinds == {"amount": "number", "share": "number", "year": "year",
                           "day": "date", "seen": "minute"}  # no fractions of a second
    assert table.decimals == {"amount": 1, "share": 6, "year": 0}
    assert table.frame["amount"].tolist()[0] == 5076.0  # the 1,000s show one decimal
    assert pd.api.types.is_float_dtype(table.frame["amount"])  # still sorts as a number
    assert table.frame["kind"].tolist() == ["wet", "", "dry"]
    assert table.frame["ok"].tolist() == ["yes", "no", "yes"]


def test_a_column_of_little_charts_is_left_as_it_is() -> None:
    frame = pd.DataFrame({"Distribution": [[1, 2, 3], [4, 5]]})
    table = table_for_people(frame)
    assert table.frame["Distribution"].tolist() == [[1, 2, 3], [4, 5]]
    assert table.kinds == {}


def test_a_wide_table_is_built_at_once_without_a_fragmented_frame() -> None:
    # 300 columns (the dataset page's preview of a wide file): built column by column, pandas
    # warned of a fragmented frame 220 times in the dataset-page tests.
    frame = pd.DataFrame({f"reading {i}": [i + 0.5, None, i * 1000.0] for i in range(300)},
                         index=[7, 3, 5])
    with warnings.catch_warnings():
        warnings.simplefilter("error", pd.errors.PerformanceWarning)
        kept = table_for_people(frame).frame
        written = frame_for_people(frame)
    assert list(kept.columns) == list(frame.columns) == list(written.columns)
    assert list(kept.index) == [7, 3, 5] == list(written.index)
    assert kept["reading 299"].tolist()[::2] == [299.5, 299000.0]
    assert written["reading 299"].tolist() == ["299.5", "", "299,000"]


def test_stored_sql_names_the_dataset_not_the_server_path() -> None:
    sql = ("SELECT * FROM read_parquet('/srv/data/datasets/7/v1/data.parquet', "
           "file_row_number = true) AS d LEFT JOIN read_parquet('/srv/data/answers/3.parquet')")
    shown = sql_for_people(sql, "Bob's weather")
    assert "/srv" not in shown and ".parquet" not in shown
    assert "read_parquet('Bob''s weather', file_row_number = true)" in shown
    assert "read_parquet('Claude''s answers')" in shown


def test_a_count_has_the_right_noun() -> None:
    assert counted(1, "group") == "1 group"
    assert counted(1200, "row") == "1,200 rows"
    assert counted(0, "entry", "entries") == "0 entries"
