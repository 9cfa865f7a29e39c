"""For tests of reading files in a bounded child: an Excel shared-strings bomb, the
server's memory growth while work runs, and the readers still alive."""

import threading
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import psutil
import pytest

from services.settings import reset_settings_cache

T = TypeVar("T")
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
DOC = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
KIND = "application/vnd.openxmlformats-officedocument.spreadsheetml"
REFUSED = ("This Excel file needs more memory than Research Desk allows for reading a file",
           "This Excel file takes longer to read than Research Desk allows for reading a file")


def shared_strings_bomb(path: Path, text_mb: int = 100, length: int = 10_000) -> Path:
    """A one-sheet workbook of 50 rows whose shared-string table holds `text_mb` MB of
    repeated text: about 1 KB per 1 MB once compressed."""
    rows = "".join(f'<row r="{r}"><c r="A{r}" t="s"><v>{r - 1}</v></c>'
                   f'<c r="B{r}"><v>{r}</v></c></row>' for r in range(1, 51))
    parts = {
        "[Content_Types].xml":
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{KIND}.sheet.main+xml"/>'
            f'<Override PartName="/xl/worksheets/sheet1.xml" '
            f'ContentType="{KIND}.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" '
            f'ContentType="{KIND}.sharedStrings+xml"/></Types>',
        "_rels/.rels": f'<Relationships xmlns="{PKG}"><Relationship Id="rId1" '
                       f'Type="{DOC}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": f'<workbook xmlns="{MAIN}" xmlns:r="{DOC}"><sheets><sheet '
                           'name="Data" sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels":
            f'<Relationships xmlns="{PKG}"><Relationship Id="rId1" Type="{DOC}/worksheet" '
            f'Target="worksheets/sheet1.xml"/><Relationship Id="rId2" '
            f'Type="{DOC}/sharedStrings" Target="sharedStrings.xml"/></Relationships>',
        "xl/worksheets/sheet1.xml": f'<worksheet xmlns="{MAIN}"><sheetData>{rows}'
                                    '</sheetData></worksheet>',
    }
    count = (text_mb << 20) // length
    item = b"<si><t>" + b"x" * length + b"</t></si>"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts.items():
            archive.writestr(name, text)
        with archive.open("xl/sharedStrings.xml", "w") as strings:
            strings.write(f'<sst xmlns="{MAIN}" count="{count}" uniqueCount="{count}">'.encode())
            for _ in range(count // 100):
                strings.write(item * 100)
            strings.write(b"</sst>")
    return path


def peak_growth_mb(work: Callable[[], T]) -> tuple[T, float]:
    """`work()` and how far this process's resident memory rose above its start meanwhile."""
    process = psutil.Process()
    start = peak = process.memory_info().rss
    done = threading.Event()

    def watch() -> None:
        nonlocal peak
        while not done.wait(0.01):
            peak = max(peak, process.memory_info().rss)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        result = work()
    finally:
        done.set()
        watcher.join()
    return result, (max(peak, process.memory_info().rss) - start) / 2**20


def readers_left() -> list[psutil.Process]:
    return [child for child in psutil.Process().children(recursive=True)
            if "services.data.bounded_child" in " ".join(child.cmdline())]


def set_read_limits(monkeypatch: pytest.MonkeyPatch, memory_mb: int, seconds: float) -> None:
    """The child reader's limits for this test (the settings are read again)."""
    monkeypatch.setenv("RESEARCH_DESK_FILE_READ_MEMORY_MB", str(memory_mb))
    monkeypatch.setenv("RESEARCH_DESK_FILE_READ_SECONDS", str(seconds))
    reset_settings_cache()
