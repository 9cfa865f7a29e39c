"""Excel workbooks are unpacked in a bounded child process, never in the server (issue 18.11).

A few hundred KB of .xlsx can hold a shared-string table that unpacks to hundreds of MB,
which openpyxl keeps in memory whole; the server process must not grow or stall for it.
The API's upload of such a bomb: tests/unit/api/test_excel_upload.py.
"""

from pathlib import Path

import pytest

from services.data import ingest
from services.errors import TooLarge
from tests.unit.bounded_reading import (
    REFUSED,
    peak_growth_mb,
    readers_left,
    set_read_limits,
    shared_strings_bomb,
)
from tests.unit.one_home import files_matching

DATA = Path(__file__).resolve().parents[2] / "data"


def test_the_sheet_picker_refuses_the_bomb_too(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    set_read_limits(monkeypatch, 32, 60)
    bomb = shared_strings_bomb(tmp_path / "bomb.xlsx")
    with pytest.raises(TooLarge) as refused:
        ingest.list_sheets(bomb)
    assert str(refused.value).startswith(REFUSED) and readers_left() == []


def test_a_reader_past_its_wall_clock_is_killed(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    set_read_limits(monkeypatch, 2048, 0.5)  # memory to spare: only the clock stops it
    bomb = shared_strings_bomb(tmp_path / "bomb.xlsx")
    with pytest.raises(TooLarge, match="takes longer to read than Research Desk allows for "
                                       r"reading a file \(0.5 seconds\)"):
        ingest.ingest_file(bomb, original_name="bomb.xlsx", dest_dir=tmp_path / "out")
    assert readers_left() == []
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_a_normal_workbook_reads_as_before(tmp_path: Path) -> None:
    path = DATA / "seattle_weather.xlsx"
    assert ingest.list_sheets(path) == ["Seattle weather"]
    result, grown = peak_growth_mb(lambda: ingest.ingest_file(
        path, original_name=path.name, dest_dir=tmp_path / "out"))
    assert result.rows == 1461 and result.format == "excel"
    assert [c.name for c in result.columns] == ["date", "precipitation", "temp_max",
                                                "temp_min", "wind", "weather"]
    assert result.detected.sheet == "Seattle weather" and result.warnings == []
    assert result.parquet_path.is_file() and readers_left() == []


def test_one_home_for_how_a_child_is_bounded() -> None:
    home = ["services/data/bounded_child.py"]
    assert files_matching(r"setrlimit\(|MALLOC_ARENA_MAX") == home
