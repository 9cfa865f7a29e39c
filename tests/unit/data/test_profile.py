import datetime as dt
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from services.data.profile import profile_dataset


def _parquet(tmp_path: Path, frame: pd.DataFrame) -> Path:
    path = tmp_path / "p.parquet"
    con = duckdb.connect()
    con.register("frame", frame)
    con.execute(f"COPY frame TO '{path}' (FORMAT parquet)")
    return path


def test_numbers_match_pandas(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({
        "x": rng.normal(10, 3, 500),
        "n": rng.integers(0, 7, 500),
        "city": rng.choice(["Oslo", "Rome", "Lima"], 500),
    })
    frame.loc[::10, "x"] = np.nan
    profile = profile_dataset(_parquet(tmp_path, frame))
    x, n, city = profile.columns
    assert profile.rows == 500
    assert x.count == int(frame.x.count()) and x.missing == 50
    assert x.mean == pytest.approx(frame.x.mean())
    assert x.std == pytest.approx(frame.x.std(ddof=1))
    for q, attr in ((0.25, "q25"), (0.5, "q50"), (0.75, "q75")):
        assert getattr(x, attr) == pytest.approx(frame.x.quantile(q))
        assert getattr(n, attr) == pytest.approx(frame.n.quantile(q))
    assert x.min == pytest.approx(frame.x.min()) and x.max == pytest.approx(frame.x.max())
    assert n.distinct == frame.n.nunique() and not n.distinct_is_approximate
    assert n.dtype == "whole number" and x.dtype == "number" and city.dtype == "text"
    counts = frame.city.value_counts()
    assert [(v.value, v.count) for v in city.top_values] == list(counts.items())
    assert sum(b.count for b in x.histogram) == x.count
    assert len(n.histogram) == 7  # one bin per whole number when the range is small
    assert [b.count for b in n.histogram] == [int((frame.n == i).sum()) for i in range(7)]


def test_duplicates_dates_and_size(tmp_path: Path) -> None:
    frame = pd.DataFrame({"a": [1, 1, 2, 1], "b": ["x", "x", "y", "x"],
                          "d": pd.to_datetime(["2024-01-02", "2024-01-02", "2023-05-06",
                                               "2024-01-02"]).date})
    path = _parquet(tmp_path, frame)
    profile = profile_dataset(path)
    assert profile.duplicate_rows == int(frame.duplicated().sum()) == 2
    assert profile.bytes == path.stat().st_size
    d = profile.columns[2]
    assert d.dtype == "date" and d.min == "2023-05-06" and d.max == "2024-01-02"


def test_empty_and_constant_columns(tmp_path: Path) -> None:
    frame = pd.DataFrame({"e": [None, None, None], "c": [5, 5, 5]}).astype(
        {"e": "float64"})
    profile = profile_dataset(_parquet(tmp_path, frame))
    e, c = profile.columns
    assert e.count == 0 and e.missing == 3 and e.distinct == 0 and e.mean is None
    assert c.distinct == 1 and c.std == 0 and c.histogram[0].count == 3


def test_large_distinct_counts_are_flagged_approximate(tmp_path: Path) -> None:
    path = tmp_path / "big.parquet"
    con = duckdb.connect()
    con.execute(f"COPY (SELECT 'k' || i AS code, i % 3 AS g FROM range(300000) t(i)) "
                f"TO '{path}'")
    profile = profile_dataset(path)
    codes, groups = profile.columns
    assert codes.distinct_is_approximate and abs(codes.distinct - 300_000) < 300_000 * 0.05
    assert not groups.distinct_is_approximate and groups.distinct == 3
    assert profile.duplicate_rows == 0


def test_integer_ids_get_exact_distinct_counts_and_duplicates(tmp_path: Path) -> None:
    path = tmp_path / "ids.parquet"
    con = duckdb.connect()
    # 300,000 ids with every 1,000th one repeated: 300 duplicate rows
    con.execute(f"COPY (SELECT i AS id FROM range(300000) t(i) UNION ALL "
                f"SELECT i FROM range(0, 300000, 1000) t(i)) TO '{path}'")
    profile = profile_dataset(path)
    ids = profile.columns[0]
    assert ids.distinct == 300_000 and not ids.distinct_is_approximate
    assert profile.duplicate_rows == 300


def test_value_table_and_full_scan_agree_with_pandas(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Numeric columns with a value → count table and those scanned again give the same
    quartiles, histogram and outliers (and both match pandas)."""
    from services.data import profile as profile_module

    rng = np.random.default_rng(7)
    frame = pd.DataFrame({"price": np.round(rng.lognormal(3, 1, 20_000), 2),
                          "qty": rng.integers(1, 40, 20_000)})
    path = _parquet(tmp_path, frame)
    from_table = profile_dataset(path)
    monkeypatch.setattr(profile_module, "FREQUENCY_LIMIT", 0)
    scanned = profile_dataset(path)
    for a, b, name in zip(from_table.columns, scanned.columns, frame.columns, strict=True):
        column = frame[name]
        q25, q75 = column.quantile(0.25), column.quantile(0.75)
        iqr = q75 - q25
        outside = int(((column < q25 - 1.5 * iqr) | (column > q75 + 1.5 * iqr)).sum())
        for p in (a, b):
            assert (p.q25, p.q50, p.q75) == pytest.approx(
                (q25, column.quantile(0.5), q75))
            assert p.outliers == outside
            assert p.distinct == column.nunique()
        assert [h.count for h in a.histogram] == [h.count for h in b.histogram]
        assert sum(h.count for h in a.histogram) == len(column)
        assert a.top_values == b.top_values
    assert from_table.columns[0].outliers > 0  # lognormal prices have a long tail
    assert isinstance(from_table.columns[1].top_values[0].value, int)


def test_display_names_come_from_the_file(tmp_path: Path) -> None:
    from services.data.ingest import ingest_file

    source = tmp_path / "in.csv"
    source.write_text("Unit price (€),when\n1.5,2024-01-01\n2.5,2024-01-02\n")
    result = ingest_file(source, original_name="in.csv", dest_dir=tmp_path)
    profile = profile_dataset(result.parquet_path)
    assert [c.name for c in profile.columns] == ["Unit price (€)", "when"]
    assert profile.columns[1].min == dt.date(2024, 1, 1).isoformat()
