"""Wide tables (hundreds or thousands of columns) are profiled and checked in batches, in
bounded memory, with the same results as the one-query-per-step path for narrow tables;
every DuckDB connection the project opens for itself has a memory limit."""

import io
import os
import re
import tokenize
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from services.data import duck, profile, quality
from services.data.profile import profile_dataset
from services.data.quality import find_issues
from tests.unit.child_limits import ROOT, run_bounded


def _wide_frame(columns: int, rows: int) -> pd.DataFrame:
    rng = np.random.default_rng(11)
    data: dict[str, object] = {}
    for i in range(columns):
        kind = i % 6
        if kind == 0:
            values = rng.normal(50, 10, rows).round(2)
            values[::7] = np.nan
            data[f"x{i}"] = values
        elif kind == 1:
            data[f"n{i}"] = rng.integers(0, 9, rows)
        elif kind == 2:
            cities = rng.choice(["Oslo", "oslo", "Rome", " Lima", "Lima"], rows).astype(object)
            cities[::5] = None
            data[f"city{i}"] = cities
        elif kind == 3:
            data[f"amount{i}"] = [f"{v:.1f}" for v in rng.uniform(0, 90, rows)]
        elif kind == 4:
            data[f"day{i}"] = pd.Timestamp("2024-01-01") + pd.to_timedelta(
                rng.integers(0, 30, rows), unit="D")
        else:
            data[f"flag{i}"] = rng.integers(0, 2, rows).astype(bool)
    frame = pd.DataFrame(data)
    return pd.concat([frame, frame.head(4)], ignore_index=True)  # 4 duplicate rows


def _parquet(path: Path, frame: pd.DataFrame) -> Path:
    con = duckdb.connect()
    con.register("frame", frame)
    con.execute(f"COPY frame TO '{path}' (FORMAT parquet)")
    con.close()
    return path


def _comparable(value: object) -> object:
    if isinstance(value, float):
        return round(value, 6)
    if isinstance(value, list):
        return [_comparable(v) for v in value]
    if isinstance(value, dict):
        return {k: _comparable(v) for k, v in value.items()}
    return value


def test_wide_table_profiles_and_findings_match_the_narrow_path(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _parquet(tmp_path / "wide.parquet", _wide_frame(profile.WIDE_COLUMNS + 30, 400))
    monkeypatch.setattr(profile, "BATCH_CELLS", 400 * 40)  # several batches
    wide = profile_dataset(path)
    wide_findings = find_issues(path, wide)
    monkeypatch.setattr(profile, "WIDE_COLUMNS", 10_000)
    monkeypatch.setattr(quality, "WIDE_COLUMNS", 10_000)
    narrow = profile_dataset(path)
    narrow_findings = find_issues(path, narrow)
    assert wide.duplicate_rows == narrow.duplicate_rows == 4
    assert [c.name for c in wide.columns] == [c.name for c in narrow.columns]
    for w, n in zip(wide.columns, narrow.columns, strict=True):
        assert _comparable(w.model_dump()) == _comparable(n.model_dump()), w.name
    assert ({(f.kind, f.column, f.message) for f in wide_findings}
            == {(f.kind, f.column, f.message) for f in narrow_findings})
    assert any(f.kind == "inconsistent_categories" for f in wide_findings)
    assert any(f.kind == "whitespace" for f in wide_findings)


def test_profile_and_quality_of_a_wide_table_stay_bounded(tmp_path: Path) -> None:
    """1,000 columns × 5,000 rows: one giant query per step took minutes and gigabytes."""
    path = _parquet(tmp_path / "wide.parquet", _wide_frame(1_000, 5_000))
    figures = run_bounded(f"""
        from pathlib import Path
        from services.data.profile import profile_dataset
        from services.data.quality import find_issues
        path = Path({str(path)!r})
        result = profile_dataset(path)
        assert len(result.columns) == 1_000
        find_issues(path, result)
    """, address_space_mb=3072, timeout_s=150, env={**os.environ})
    assert figures["outcome"] == "ok"
    assert float(figures["peak_mb"]) < 700  # type: ignore[arg-type]


def test_every_connection_has_a_memory_and_thread_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RESEARCH_DESK_DUCKDB_MEMORY_MB", "300")
    monkeypatch.setenv("RESEARCH_DESK_DUCKDB_THREADS", "1")
    from services.settings import reset_settings_cache

    reset_settings_cache()
    settings_sql = "SELECT current_setting('memory_limit'), current_setting('threads')"
    with duck.session() as con:  # work on a whole file
        limit, threads = con.execute(settings_sql).fetchone() or ("", 0)
    assert limit.startswith("300") and threads == 1
    limit, threads = duck.query_row(settings_sql) or ("", 0)  # one query
    assert limit.startswith("300") and threads == 1


# Ways to reach DuckDB without the door: a connection of one's own, the module-level
# functions (DuckDB's default connection has no limits), or the door's private opener.
_AROUND_THE_DOOR = re.compile(r"duckdb\.(connect|sql|query|execute|default_connection|"
                              r"read_csv|read_parquet|read_json|from_\w+)\(|\b_connect\(")


def _code_only(source: str) -> str:
    """The module's code without its string literals: code a module writes for someone
    else to run (the exported notebook) is text, not a connection this process opens."""
    tokens = tokenize.generate_tokens(io.StringIO(source).readline)
    return " ".join(tok.string for tok in tokens
                    if tok.type not in (tokenize.STRING, tokenize.COMMENT))


def test_no_service_opens_duckdb_without_the_limits() -> None:
    """Only services/data/duck.py (and the sandbox worker, whose instances the guard's parser
    also uses, with stricter limits of their own) may open DuckDB; every other module goes
    through the door (duck.query_* or duck.session)."""
    offenders = []
    for path in sorted((ROOT / "services").rglob("*.py")):
        if path.name in ("duck.py", "sandbox_worker.py"):
            continue
        if _AROUND_THE_DOOR.search(_code_only(path.read_text())):
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []
    door = (ROOT / "services" / "data" / "duck.py").read_text()
    assert door.count("duckdb.connect(") == 1  # the door itself opens in one place


def test_the_guard_would_catch_a_module_that_goes_around_the_door() -> None:
    for sneaky in ("con = duckdb.connect()", "duckdb.sql('SELECT 1')",
                   "con = duck._connect()", "duckdb.read_parquet(path)"):
        assert _AROUND_THE_DOOR.search(sneaky), sneaky
    for fine in ("duck.session()", "duck.query_frame(sql)", "read_parquet($path)"):
        assert not _AROUND_THE_DOOR.search(fine), fine


def test_wide_work_reports_progress_batch_by_batch(tmp_path: Path) -> None:
    path = _parquet(tmp_path / "wide.parquet", _wide_frame(420, 30))
    heard: list[tuple[int, int]] = []
    found = profile_dataset(path, on_progress=lambda done, total: heard.append((done, total)))
    assert len(heard) >= 3  # 420 columns: more than one batch of MAX_BATCH_COLUMNS
    assert [t for _, t in heard] == [420] * len(heard)
    assert [d for d, _ in heard] == sorted(d for d, _ in heard) and heard[-1][0] == 420

    checked: list[tuple[int, int]] = []
    find_issues(path, found, on_progress=lambda done, total: checked.append((done, total)))
    text_columns = sum(1 for c in found.columns if c.dtype in ("text", "category") and c.count)
    assert checked and checked[-1] == (text_columns, text_columns)


def test_narrow_work_needs_no_progress(tmp_path: Path) -> None:
    path = _parquet(tmp_path / "narrow.parquet", _wide_frame(12, 30))
    heard: list[tuple[int, int]] = []
    profile_dataset(path, on_progress=lambda done, total: heard.append((done, total)))
    assert heard == []  # one quick query: the page's spinner says enough
