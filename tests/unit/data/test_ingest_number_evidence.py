"""Ingest decides the number format for the whole file from every column's values."""

import csv
import datetime as dt
import io
from pathlib import Path

import duckdb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.data.dataset_models import ReadOptions
from services.data.ingest import ingest_file
from tests.unit.datasets_fixtures import ingest_text, rows_of, write_bytes
from tests.unit.number_styles import DECIMAL, STYLES, expected, write_date, write_number

SPANISH = (
    "País;Esperanza de vida;Población;PIB per cápita\n"
    "Afganistán;28,801;8.425.333;779,45\n"
    "Albania;55,23;1.282.697;1.601,06\n"
    "Argelia;43,077;9.279.525;2.449,01\n"
    "Angola;30,015;4.232.095;3.520,61\n"
)


def test_spanish_export_reads_every_column_as_numbers(tmp_path: Path) -> None:
    result = ingest_text(tmp_path, "paises.csv", SPANISH, encoding="cp1252")
    assert (result.detected.decimal, result.detected.thousands) == (",", ".")
    assert [c.dtype for c in result.columns] == ["text", "number", "number", "number"]
    assert rows_of(result)[0] == ("Afganistán", 28.801, 8425333.0, 779.45)
    assert rows_of(result)[2][1] == 43.077
    assert not any("two ways" in w for w in result.warnings)


def test_one_ambiguous_column_alone_is_read_by_the_default_with_a_warning(
        tmp_path: Path) -> None:
    result = ingest_text(tmp_path, "amb.csv", "Ciudad;Valor\nMadrid;1,234\nLugo;5,678\n")
    assert rows_of(result) == [("Madrid", 1.234), ("Lugo", 5.678)]
    warning = next(w for w in result.warnings if "could be read two ways" in w)
    assert "“Valor”" in warning and "decimal comma" in warning
    assert "“Point” for “Decimal mark” under Read options" in warning


def test_split_evidence_says_so_and_names_the_columns(tmp_path: Path) -> None:
    text = "name;a;b;c\nx;779,45;12.5;1.234\ny;1,5;3.25;2.468\n"
    result = ingest_text(tmp_path, "split.csv", text)
    assert rows_of(result) == [("x", 779.45, 12.5, 1.234), ("y", 1.5, 3.25, 2.468)]
    warning = next(w for w in result.warnings if "two ways" in w)
    assert "“a” with a decimal comma" in warning and "“b” with a decimal point" in warning
    assert "“c” could be read either way" in warning and "“Decimal mark”" in warning


def test_read_options_force_the_marks(tmp_path: Path) -> None:
    path = write_bytes(tmp_path, "amb.csv", b"Ciudad;Valor\nMadrid;1,234\nLugo;5,678\n")
    result = ingest_file(path, original_name="amb.csv", dest_dir=tmp_path / "out",
                         options=ReadOptions(decimal=".", thousands=","))
    assert (result.detected.decimal, result.detected.thousands) == (".", ",")
    assert rows_of(result) == [("Madrid", 1234.0), ("Lugo", 5678.0)]
    assert not any("two ways" in w for w in result.warnings)


def test_percent_and_currency_columns_become_numbers(tmp_path: Path) -> None:
    result = ingest_text(tmp_path, "p.csv", "k;share;price\na;12,5 %;1.234,00 €\nb;3 %;5 €\n")
    assert rows_of(result) == [("a", 12.5, 1234.0), ("b", 3.0, 5.0)]


def _csv(style: str, values: list[str]) -> str:
    delimiter = ";" if DECIMAL[style] == "," else ","
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    writer.writerow(["name", "amount"])
    for i, value in enumerate(values):
        writer.writerow([f"row {i}", value])
    return out.getvalue()


_DUCK = duckdb.connect()  # one in-memory database for reading results (a cursor per read)
numbers = st.tuples(st.integers(0, 10**12), st.text("0123456789", max_size=2),
                    st.booleans())


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(style=st.sampled_from(STYLES), values=st.lists(numbers, min_size=1, max_size=6))
def test_whole_file_round_trip_in_every_country_style(
        tmp_path: Path, style: str, values: list[tuple[int, str, bool]]) -> None:
    texts = [write_number(w, f, n, style) for w, f, n in values]
    folder = tmp_path / f"case{abs(hash((style, tuple(texts))))}"
    folder.mkdir()
    result = ingest_text(folder, "export.csv", _csv(style, texts))
    with _DUCK.cursor() as con:
        read = [r[0] for r in con.execute(
            f"SELECT amount FROM '{result.parquet_path}'").fetchall()]
    assert [float(v) for v in read] == [expected(w, f, n) for w, f, n in values], texts


def test_excel_text_cells_with_thousands_marks_become_numbers(tmp_path: Path) -> None:
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["name", "amount", "weight"])
    sheet.append(["a", "1,234", 1.234])
    sheet.append(["b", "12,345,678", 2.5])
    path = tmp_path / "book.xlsx"
    workbook.save(path)
    result = ingest_file(path, original_name="book.xlsx", dest_dir=tmp_path / "out")
    assert rows_of(result) == [("a", 1234.0, 1.234), ("b", 12345678.0, 2.5)]


dates = st.dates(dt.date(1950, 1, 1), dt.date(2049, 12, 31))


@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(order=st.sampled_from(["day_first", "month_first"]),
       days=st.lists(dates, min_size=1, max_size=6), proof=st.booleans())
def test_dates_round_trip_through_ingest(tmp_path: Path, order: str, days: list[dt.date],
                                         proof: bool) -> None:
    if proof:
        days = [*days, dt.date(2024, 12, 25)]  # 25 can only be a day
    proven = any(d.day > 12 and d.day != d.month for d in days)
    text = "n;day\n" + "".join(f"{i};{write_date(d, order)}\n" for i, d in enumerate(days))
    folder = tmp_path / f"d{abs(hash((order, tuple(days))))}"
    folder.mkdir()
    path = write_bytes(folder, "dates.csv", text.encode())
    options = None if proven else ReadOptions(date_order=order)  # type: ignore[arg-type]
    result = ingest_file(path, original_name="dates.csv", dest_dir=folder / "out",
                         options=options)
    assert [r[1] for r in rows_of(result)] == days
    assert result.detected.date_order == order
