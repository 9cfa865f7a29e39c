"""Times written with a time zone (…Z, …+02:00) go through every service and are computed
and shown in one stated zone, UTC, wherever the server runs."""

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from components.column_profiles import _stat
from services.charts.aggregate import aggregate
from services.charts.spec import ChartSpec
from services.data.dataset_files import csv_bytes, preview
from services.data.display_text import frame_for_people, has_time_zone
from services.data.ingest import ingest_file
from services.data.profile import profile_dataset
from services.data.quality import find_issues
from services.untrusted_sql.sandbox import run_sandboxed

ROOT = Path(__file__).resolve().parents[3]
# The same four moments, written as UTC ("Z") and as Central European Summer Time.
UTC_CSV = ("id,at,amount\n1,2024-03-01T12:05:00Z,3\n2,2024-03-01T23:30:00Z,4\n"
           "3,2024-03-02T00:15:00Z,5\n4,,6\n")
PLUS_TWO_CSV = ("id,at,amount\n1,2024-03-01T14:05:00+02:00,3\n2,2024-03-02T01:30:00+02:00,4\n"
                "3,2024-03-02T02:15:00+02:00,5\n4,,6\n")
MOMENTS = [datetime(2024, 3, 1, 12, 5, tzinfo=UTC), datetime(2024, 3, 1, 23, 30, tzinfo=UTC),
           datetime(2024, 3, 2, 0, 15, tzinfo=UTC)]


@pytest.fixture(params=["utc", "plus_two"])
def zoned(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    source = tmp_path / f"{request.param}.csv"
    source.write_text(UTC_CSV if request.param == "utc" else PLUS_TWO_CSV)
    result = ingest_file(source, original_name=source.name, dest_dir=tmp_path / "out")
    at = next(c for c in result.columns if c.name == "at")
    assert at.dtype == "date and time" and "TIME ZONE" in at.duckdb_type
    assert result.rows == 4
    return result.parquet_path


def test_pytz_is_installed_for_duckdb() -> None:
    import pytz  # noqa: F401 - DuckDB needs it to hand zoned times to Python

    assert "pytz==" in (ROOT / "requirements.txt").read_text()


def test_preview_shows_the_moments_in_utc(zoned: Path) -> None:
    frame = preview(zoned)
    assert has_time_zone(frame)
    assert [t.to_pydatetime() for t in frame["at"].dropna()] == MOMENTS
    shown = frame_for_people(frame)["at"].tolist()
    assert shown == ["1 Mar 2024 12:05", "1 Mar 2024 23:30", "2 Mar 2024 00:15", ""]
    assert b"2024-03-01 23:30:00+00" in csv_bytes(zoned)


def test_profile_min_and_max_of_a_zoned_column(zoned: Path) -> None:
    at = next(c for c in profile_dataset(zoned).columns if c.name == "at")
    assert at.count == 3 and at.missing == 1 and at.distinct == 3
    assert datetime.fromisoformat(str(at.min)) == MOMENTS[0]
    assert datetime.fromisoformat(str(at.max)) == MOMENTS[-1]
    assert _stat(at.min) == "1 Mar 2024 12:05" and _stat(at.max) == "2 Mar 2024 00:15"


def test_quality_checks_a_zoned_dataset(zoned: Path) -> None:
    findings = find_issues(zoned)
    missing = [f for f in findings if f.kind == "missing_values" and f.column == "at"]
    assert missing and missing[0].affected_rows == 1


def test_explore_by_day_counts_utc_days(zoned: Path) -> None:
    data = aggregate(zoned, ChartSpec(chart_type="bar", x="at", bucket="day", y="amount",
                                      agg="sum"))
    days = {pd.Timestamp(x).tz_convert("UTC").date().isoformat() if pd.Timestamp(x).tzinfo
            else pd.Timestamp(x).date().isoformat(): v
            for x, v in zip(data.frame["x"], data.frame["value"], strict=True)}
    assert days == {"2024-03-01": 7.0, "2024-03-02": 5.0}  # 23:30 UTC is still 1 March


def test_ask_sandbox_returns_zoned_times(zoned: Path) -> None:
    result = run_sandboxed("SELECT at_, amount FROM data WHERE at_ IS NOT NULL ORDER BY at_",
                           {"data": zoned})
    assert [t.to_pydatetime() for t in result.frame["at_"]] == MOMENTS
    by_day = run_sandboxed("SELECT CAST(at_ AS DATE) AS day, sum(amount) AS total FROM data "
                           "WHERE at_ IS NOT NULL GROUP BY day ORDER BY day", {"data": zoned})
    assert by_day.frame["total"].tolist() == [7, 5]


def test_a_server_in_another_zone_still_works_in_utc(tmp_path: Path) -> None:
    """DuckDB otherwise groups and shows times in the server's local zone."""
    source = tmp_path / "z.csv"
    source.write_text(UTC_CSV)
    script = (
        "import sys\nfrom pathlib import Path\n"
        "from services.data.ingest import ingest_file\n"
        "from services.charts.aggregate import aggregate\n"
        "from services.charts.spec import ChartSpec\n"
        "from services.data.dataset_files import preview\n"
        "from services.data.display_text import frame_for_people\n"
        f"r = ingest_file(Path({str(source)!r}), original_name='z.csv', "
        f"dest_dir=Path({str(tmp_path / 'out')!r}))\n"
        "d = aggregate(r.parquet_path, ChartSpec(chart_type='bar', x='at', bucket='day', "
        "y='amount', agg='sum'))\n"
        "print(d.frame['value'].tolist())\n"
        "print(frame_for_people(preview(r.parquet_path))['at'].tolist())\n"
    )
    env = {**os.environ, "TZ": "Pacific/Auckland", "PYTHONWARNINGS": "ignore"}
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=120, check=True).stdout.splitlines()
    assert out == ["[7.0, 5.0]",
                   "['1 Mar 2024 12:05', '1 Mar 2024 23:30', '2 Mar 2024 00:15', '']"]
