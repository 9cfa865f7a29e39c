"""One sheet of an uploaded Excel workbook written as CSV, and a workbook's sheet names.

This runs in a bounded child process (`services.data.bounded_child`, called from
services.data.ingest), never in the server: openpyxl keeps a workbook's whole shared-string
table in memory, and a few hundred KB of .xlsx can unpack to hundreds of MB of it. So it
imports nothing heavier than openpyxl, takes its limits as arguments (no settings), and
answers in plain JSON values.
"""

import csv
from pathlib import Path
from typing import Any

import openpyxl

from services.data import excel_bounds
from services.errors import InvalidInput

MSG_NOT_WORKBOOK = "This file is not an Excel workbook (.xlsx) we can open."


def _open(path: str, **options: bool) -> Any:
    try:
        return openpyxl.load_workbook(Path(path), **options)
    except Exception as error:  # openpyxl raises many kinds for a non-workbook
        raise InvalidInput(MSG_NOT_WORKBOOK) from error


def sheet_names(path: str) -> list[str]:
    """Sheet names of an Excel workbook, in workbook order."""
    excel_bounds.check_archive(Path(path))
    workbook = _open(path, read_only=True)
    try:
        return list(workbook.sheetnames)
    finally:
        workbook.close()


def sheet_to_csv(path: str, scratch: str, sheet: str | None, skip_rows: int,
                 max_cells: int) -> dict[str, Any]:
    """Write `sheet` (the first when None) to `scratch` as CSV: {"sheet": its name,
    "skipped": rows left out above the table, "warnings": sentences}."""
    excel_bounds.check_archive(Path(path))
    # read_only: rows stream from the XML and merged ranges are not expanded into cells;
    # data_only: formulas come back as the values Excel saved with the file.
    workbook = _open(path, data_only=True, read_only=True)
    warnings: list[str] = []
    try:
        names = list(workbook.sheetnames)
        chosen = sheet or names[0]
        if chosen not in names:
            raise InvalidInput(f"The workbook has no sheet called “{chosen}”; it has "
                               + ", ".join(f"“{n}”" for n in names) + ".")
        if len(names) > 1 and sheet is None:
            warnings.append(f"This workbook has {len(names)} sheets; read “{chosen}”. "
                            "Pick another sheet to read that one instead.")
        worksheet = workbook[chosen]
        layout = excel_bounds.inspect_sheet(Path(path),
                                            str(getattr(worksheet, "_worksheet_path", "")),
                                            max_cells=max_cells)
        skipped, notes = _sheet_to_csv(worksheet, layout, Path(scratch), skip_rows)
    finally:
        workbook.close()
    return {"sheet": chosen, "skipped": skipped, "warnings": warnings + notes}


TITLE_SCAN_ROWS = 20


def _sheet_to_csv(worksheet: object, layout: excel_bounds.SheetLayout, scratch: Path,
                  skip_rows: int) -> tuple[int, list[str]]:
    """Write the sheet's table as CSV, its full width (the last column holding a value
    anywhere), merged ranges filled with their top-left value. With no rows to skip chosen,
    a title above the table (rows with a single filled cell above the first row that fills
    several) is left out, and said so. Returns (rows skipped above the table, warnings)."""
    if layout.rows == 0 or layout.columns == 0:
        raise InvalidInput("That sheet is empty; pick a sheet that contains a table.")
    width = layout.columns
    rows = worksheet.iter_rows(min_row=1, max_row=layout.rows,  # type: ignore[attr-defined]
                               max_col=width, values_only=True)
    merged = sorted(layout.merged)
    active: list[tuple[int, int, int, int, object]] = []  # ranges covering the current row
    pending = 0
    filled: list[tuple[int, list[object], int]] = []  # (row number, values, raw filled cells)
    for number, values in enumerate(rows, start=1):
        cells = list(values)[:width] + [None] * max(0, width - len(values))
        raw_filled = sum(1 for v in cells if v is not None and str(v).strip())
        while pending < len(merged) and merged[pending][0] == number:
            r1, c1, r2, c2 = merged[pending]
            active.append((r1, c1, r2, c2, cells[c1 - 1]))
            pending += 1
        active = [a for a in active if a[2] >= number]
        for _, c1, _, c2, value in active:
            cells[c1 - 1:c2] = [value] * (c2 - c1 + 1)
        filled.append((number, cells, raw_filled))
        if len(filled) > TITLE_SCAN_ROWS + skip_rows:
            break
    start, warnings = _table_start(filled[skip_rows:], skip_rows)
    with scratch.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        for number, cells, _ in filled:
            if number > start:
                writer.writerow([_excel_text(v) for v in cells])
        last = filled[-1][0] if filled else 0
        for number, values in enumerate(rows, start=last + 1):
            cells = list(values)[:width] + [None] * max(0, width - len(values))
            active = [a for a in active if a[2] >= number]
            while pending < len(merged) and merged[pending][0] == number:
                r1, c1, r2, c2 = merged[pending]
                active.append((r1, c1, r2, c2, cells[c1 - 1]))
                pending += 1
            for _, c1, _, c2, value in active:
                cells[c1 - 1:c2] = [value] * (c2 - c1 + 1)
            writer.writerow([_excel_text(v) for v in cells])
    return start, warnings


def _table_start(rows: list[tuple[int, list[object], int]], skip_rows: int,
                 ) -> tuple[int, list[str]]:
    """(rows above the table, warnings): blank rows at the top are always left out; rows
    holding one filled cell above a row that fills several are a title."""
    present = [(number, cells, count) for number, cells, count in rows if count]
    if not present:
        raise InvalidInput("That sheet is empty; pick a sheet that contains a table.")
    first = present[0][0] - 1
    if skip_rows:
        return first, []
    widest = max(count for _, _, count in present)
    header = next((item for item in present if item[2] >= max(2, (widest + 1) // 2)), None)
    if header is None or header[0] == present[0][0]:
        return first, []
    title = [item for item in present if item[0] < header[0]]
    text = " · ".join(_excel_text(next(v for v in cells if v is not None and str(v).strip()))
                      for _, cells, _ in title)[:120]
    above = header[0] - 1
    return above, [f"The table starts at row {header[0]:,}; the {_plural(above, 'row')} above "
                   f"it (“{text}”) looked like a title and were left out. If they belong to "
                   "the table, set “Skip lines at the top” under Read options and read the "
                   "file again."]


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}" if n == 1 else f"{n:,} {word}s"


def _excel_text(value: object) -> str:
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return value.isoformat(sep=" ") if hasattr(value, "hour") and hasattr(  # type: ignore[call-arg]
            value, "year") else value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
