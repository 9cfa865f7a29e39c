"""Excel workbooks are read in bounded memory and time: hostile merged ranges and huge
sheets are refused or clipped in one sentence; a title row above the table is found."""

import re
import zipfile
from pathlib import Path

import openpyxl
import pytest

from services.data.dataset_models import ReadOptions
from services.data.ingest import ingest_file
from services.errors import InvalidInput
from tests.unit.child_limits import run_bounded
from tests.unit.datasets_fixtures import rows_of


def _edit_sheet(path: Path, change: "re.Pattern[str] | None", replace: str,
                append: str = "") -> None:
    """Rewrite sheet1.xml by hand, as a hostile or unusual producer would have written it."""
    out = path.with_suffix(".edited")
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED,
                                                            compresslevel=1) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                text = data.decode()
                if change is not None:
                    text = change.sub(replace, text)
                if append:
                    text = text.replace("</sheetData>", "</sheetData>" + append, 1)
                data = text.encode()
            dst.writestr(item, data)
    out.replace(path)


def _small_table(path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Region", "Units"])
    sheet.append(["North", 2])
    sheet.append(["South", 4])
    workbook.save(path)


def test_one_merged_range_over_the_whole_sheet_stays_small_and_fast(tmp_path: Path) -> None:
    """openpyxl's normal mode makes an object per merged cell: 17 billion here."""
    path = tmp_path / "bomb.xlsx"
    _small_table(path)
    _edit_sheet(path, re.compile(r'<dimension ref="[^"]*"/>'),
                '<dimension ref="A1:XFD1048576"/>',
                append='<mergeCells count="1"><mergeCell ref="A1:XFD1048576"/></mergeCells>')
    assert path.stat().st_size < 10_000
    figures = run_bounded(f"""
        from pathlib import Path
        from services.data.ingest import ingest_file
        result = ingest_file(Path({str(path)!r}), original_name="bomb.xlsx",
                             dest_dir=Path({str(tmp_path / "out")!r}))
        assert result.rows == 2, result.rows
        assert len(result.columns) == 2, result.columns
    """, address_space_mb=2048, timeout_s=90)
    assert figures["outcome"] == "ok", figures
    assert float(figures["peak_mb"]) < 400  # type: ignore[arg-type]
    assert float(figures["seconds"]) < 30  # type: ignore[arg-type]


def test_a_sheet_over_the_cell_limit_is_refused_in_one_sentence(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RESEARCH_DESK_EXCEL_MAX_CELLS", "5000")
    from services.settings import reset_settings_cache

    reset_settings_cache()
    path = tmp_path / "big.xlsx"
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for i in range(200):
        sheet.append([i, i * 2, f"r{i}", i % 7, i / 3, "x", "y", "z", 1, 2, 3, 4, 5, 6, 7, 8,
                      9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22])
    workbook.save(path)
    with pytest.raises(InvalidInput) as caught:
        ingest_file(path, original_name="big.xlsx", dest_dir=tmp_path / "out")
    message = str(caught.value)
    assert "cells" in message and "5,000" in message and "CSV" in message
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_a_big_workbook_is_refused_within_bounded_memory(tmp_path: Path) -> None:
    """4 million cells took 1.7 GB in openpyxl's normal mode; now the scan stops early."""
    path = tmp_path / "huge.xlsx"
    row = "".join(f'<c r="{col}{{n}}"><v>{{n}}</v></c>' for col in ("A", "B", "C", "D"))
    rows = "".join(f'<row r="{n}">' + row.format(n=n) + "</row>" for n in range(1, 1_000_001))
    workbook = openpyxl.Workbook()
    workbook.active.append([1, 2, 3, 4])
    workbook.save(path)
    _edit_sheet(path, re.compile(r"<sheetData>.*</sheetData>", re.S),
                "<sheetData>" + rows + "</sheetData>")
    figures = run_bounded(f"""
        from pathlib import Path
        from services.errors import InvalidInput
        from services.data.ingest import ingest_file
        try:
            ingest_file(Path({str(path)!r}), original_name="huge.xlsx",
                        dest_dir=Path({str(tmp_path / "out")!r}))
        except InvalidInput as error:
            assert "1,000,000" in str(error) and "CSV" in str(error), str(error)
        else:
            raise AssertionError("a 4-million-cell sheet was read")
    """, address_space_mb=2048, timeout_s=120)
    assert figures["outcome"] == "ok", figures
    assert float(figures["peak_mb"]) < 400  # type: ignore[arg-type]


def test_a_title_row_above_the_table_keeps_every_column_and_says_so(tmp_path: Path) -> None:
    path = tmp_path / "titled.xlsx"
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Quarterly sales report"])
    sheet.append([])
    sheet.append(["Region", "Units", "Price", "Total"])
    sheet.append(["North", 2, 1.5, 3])
    sheet.append(["South", 4, 2.0, 8])
    workbook.save(path)
    result = ingest_file(path, original_name="titled.xlsx", dest_dir=tmp_path / "out")
    assert [c.name for c in result.columns] == ["Region", "Units", "Price", "Total"]
    assert rows_of(result) == [("North", 2, 1.5, 3), ("South", 4, 2.0, 8)]
    assert any("Quarterly sales report" in w and "row 3" in w for w in result.warnings)
    assert result.detected.skip_rows == 2


def test_a_chosen_skip_keeps_the_full_width(tmp_path: Path) -> None:
    path = tmp_path / "titled.xlsx"
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Report"])
    sheet.append(["Region", "Units", "Price"])
    sheet.append(["North", 2, 1.5])
    workbook.save(path)
    result = ingest_file(path, original_name="titled.xlsx", dest_dir=tmp_path / "out",
                         options=ReadOptions(skip_rows=1))
    assert [c.name for c in result.columns] == ["Region", "Units", "Price"]
    assert not any("title" in w for w in result.warnings)


def test_a_merged_title_across_the_table_is_still_a_title(tmp_path: Path) -> None:
    path = tmp_path / "merged.xlsx"
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Sales 2024"])
    sheet.merge_cells("A1:C1")
    sheet.append(["Region", "Units", "Price"])
    sheet.append(["North", 2, 1.5])
    sheet.append(["South", 3, 2.5])
    workbook.save(path)
    result = ingest_file(path, original_name="merged.xlsx", dest_dir=tmp_path / "out")
    assert [c.name for c in result.columns] == ["Region", "Units", "Price"]
    assert rows_of(result) == [("North", 2, 1.5), ("South", 3, 2.5)]
