import datetime as dt
import json
from pathlib import Path

import duckdb
import openpyxl
import pytest

from services.data.dataset_models import ReadOptions
from services.data.ingest import (
    ingest_file,
    ingest_sample,
    list_sheets,
    sample_datasets,
)
from services.errors import InvalidInput
from services.settings import get_settings, reset_settings_cache
from tests.unit.datasets_fixtures import ingest_text, parquet_files, rows_of, write_bytes

# --- five national CSV formats --------------------------------------------------------

def test_us_csv_comma_and_dot(tmp_path: Path) -> None:
    text = 'Name,Amount,Date\n"Smith, J",1234.5,2024-03-01\nDoe,"1,000.25",2024-03-02\n'
    result = ingest_text(tmp_path, "us.csv", text)
    assert result.detected.delimiter == ","
    assert result.detected.encoding == "utf-8"
    assert [c.dtype for c in result.columns] == ["text", "number", "date"]
    assert rows_of(result) == [("Smith, J", 1234.5, dt.date(2024, 3, 1)),
                               ("Doe", 1000.25, dt.date(2024, 3, 2))]


def test_german_semicolon_decimal_comma_latin1_with_euro(tmp_path: Path) -> None:
    text = "Kunde;Betrag;Menge\nMüller;1.234,50 €;3\nSchäfer;2,75 €;4\nÖzil;10.000,00 €;5\n"
    result = ingest_text(tmp_path, "de.csv", text, encoding="cp1252")
    assert result.detected.delimiter == ";"
    assert result.detected.encoding == "cp1252"
    assert (result.detected.decimal, result.detected.thousands) == (",", ".")
    assert rows_of(result) == [("Müller", 1234.5, 3), ("Schäfer", 2.75, 4),
                               ("Özil", 10000.0, 5)]
    assert any("Betrag" in w for w in result.warnings)


def test_german_latin1_without_cp1252_bytes(tmp_path: Path) -> None:
    text = "Stadt;Wert\nKöln;1,5\nMünchen;2,25\n"
    result = ingest_text(tmp_path, "de2.csv", text, encoding="latin-1")
    assert result.detected.encoding == "latin-1"
    assert rows_of(result) == [("Köln", 1.5), ("München", 2.25)]


def test_french_bom_semicolon_space_thousands(tmp_path: Path) -> None:
    text = "\ufeffVille;Population;Part\nParis;2 165 423,5;12,5\nLyon;522 969,0;3,1\n"
    result = ingest_text(tmp_path, "fr.csv", text)
    assert result.detected.encoding == "utf-8-sig"
    assert result.columns[0].name == "Ville"  # no BOM left in the first name
    assert rows_of(result) == [("Paris", 2165423.5, 12.5), ("Lyon", 522969.0, 3.1)]


def test_utf16_tab_separated(tmp_path: Path) -> None:
    text = "Land\tEinwohner\nÖsterreich\t9100000\nSchweiz\t8800000\n"
    result = ingest_text(tmp_path, "u16.tsv", text, encoding="utf-16")
    assert result.detected.delimiter == "\t"
    assert result.detected.encoding == "utf-16"
    assert rows_of(result) == [("Österreich", 9100000), ("Schweiz", 8800000)]


def test_swiss_apostrophe_thousands_with_blank_lines(tmp_path: Path) -> None:
    text = "Kanton,Betrag\n\nZürich,\"1'234.50\"\n\nBern,\"12'000.00\"\n\n"
    result = ingest_text(tmp_path, "ch.csv", text)
    assert result.detected.thousands == "'"
    assert rows_of(result) == [("Zürich", 1234.5), ("Bern", 12000.0)]


def test_pipe_delimiter_and_us_dates(tmp_path: Path) -> None:
    result = ingest_text(tmp_path, "p.txt", "a|when\n1|03/25/2024\n2|04/01/2024\n")
    assert result.detected.delimiter == "|"
    assert rows_of(result) == [(1, dt.date(2024, 3, 25)), (2, dt.date(2024, 4, 1))]


def test_ambiguous_dates_read_day_first_with_a_warning_that_says_how_to_change(
        tmp_path: Path) -> None:
    text = "Datum;Menge\n03.01.2024;1\n04.02.2024;2\n"
    result = ingest_text(tmp_path, "de.csv", text)
    assert result.detected.date_order == "day_first"
    assert rows_of(result) == [(dt.date(2024, 1, 3), 1), (dt.date(2024, 2, 4), 2)]
    warning = next(w for w in result.warnings if "could be read two ways" in w)
    assert "“Datum”" in warning and "3 January 2024" in warning and "Month first" in warning


def test_month_first_chosen_by_the_person(tmp_path: Path) -> None:
    path = write_bytes(tmp_path, "us.csv", b"when,n\n03/01/2024,1\n04/02/2024,2\n")
    result = ingest_file(path, original_name="us.csv", dest_dir=tmp_path / "out",
                         options=ReadOptions(date_order="month_first"))
    assert rows_of(result) == [(dt.date(2024, 3, 1), 1), (dt.date(2024, 4, 2), 2)]
    assert not [w for w in result.warnings if "two ways" in w]


def test_a_day_above_12_proves_the_order_for_the_whole_file(tmp_path: Path) -> None:
    text = "start,end\n02/01/2024,03/01/2024\n25/01/2024,05/02/2024\n"
    result = ingest_text(tmp_path, "uk.csv", text)
    assert rows_of(result)[0] == (dt.date(2024, 1, 2), dt.date(2024, 1, 3))
    assert not [w for w in result.warnings if "two ways" in w]


def test_two_digit_years_and_times(tmp_path: Path) -> None:
    text = "day,at\n03/01/24,03/01/2024 14:05\n31/12/99,25/02/2024 09:00:30\n"
    result = ingest_text(tmp_path, "t.csv", text)
    assert [c.dtype for c in result.columns] == ["date", "text"]  # "at" mixes two shapes
    assert rows_of(result)[1][0] == dt.date(1999, 12, 31)  # not year 2031 / 2003
    result = ingest_text(tmp_path, "t2.csv", "at\n03/01/2024 14:05\n25/02/2024 09:00\n")
    assert rows_of(result) == [(dt.datetime(2024, 1, 3, 14, 5),),
                               (dt.datetime(2024, 2, 25, 9, 0),)]


def test_a_late_value_that_is_not_a_date_keeps_the_column_as_text(tmp_path: Path) -> None:
    text = "when\n" + "01/02/2020\n" * 3000 + "soon\n"
    result = ingest_text(tmp_path, "late.csv", text)
    assert result.columns[0].dtype == "text" and result.rows == 3001
    assert any("looked like dates" in w for w in result.warnings)
    assert result.detected.date_order is None


def test_a_date_order_that_is_not_offered_is_refused() -> None:
    with pytest.raises(ValueError):
        ReadOptions.model_validate({"date_order": "year_first"})


# --- bad input --------------------------------------------------------------------------

def test_empty_file_refused_and_nothing_written(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="empty"):
        ingest_text(tmp_path, "e.csv", "")
    with pytest.raises(InvalidInput, match="empty"):
        ingest_text(tmp_path, "e2.csv", "\n\n  \n")
    assert parquet_files(tmp_path) == []


def test_header_only_accepted_with_zero_rows_and_warning(tmp_path: Path) -> None:
    result = ingest_text(tmp_path, "h.csv", "name,age,city\n")
    assert result.rows == 0
    assert [c.name for c in result.columns] == ["name", "age", "city"]
    assert any("no rows" in w for w in result.warnings)


def test_binary_garbage_named_csv(tmp_path: Path) -> None:
    path = write_bytes(tmp_path, "x.csv", bytes(range(256)) * 50)
    with pytest.raises(InvalidInput, match="not look like a text file"):
        ingest_file(path, original_name="x.csv", dest_dir=tmp_path / "out")
    assert parquet_files(tmp_path) == []


def test_ragged_rows_report_line_numbers(tmp_path: Path) -> None:
    text = "a,b,c\n1,2,3\n4,5\n6,7,8\n9,10,11,12\n"
    with pytest.raises(InvalidInput, match=r"line 3, 5") as caught:
        ingest_text(tmp_path, "r.csv", text)
    assert "Skip rows" in str(caught.value)
    assert parquet_files(tmp_path) == []


def test_ragged_rows_can_be_skipped(tmp_path: Path) -> None:
    path = write_bytes(tmp_path, "r.csv", b"a,b,c\n1,2,3\n4,5\n6,7,8\n")
    result = ingest_file(path, original_name="r.csv", dest_dir=tmp_path / "out",
                         options=ReadOptions(skip_bad_rows=True))
    assert rows_of(result) == [(1, 2, 3), (6, 7, 8)]
    assert any("line 3" in w for w in result.warnings)


def test_blank_and_duplicate_column_names(tmp_path: Path) -> None:
    result = ingest_text(tmp_path, "d.csv", "name,,name,Name\n1,2,3,4\n")
    assert [c.name for c in result.columns] == ["name", "Column 2", "name (2)", "Name (3)"]
    assert len({c.sql_name for c in result.columns}) == 4
    assert len(result.warnings) == 2
    assert rows_of(result) == [(1, 2, 3, 4)]


def test_keywords_emoji_and_long_names_get_safe_sql_names(tmp_path: Path) -> None:
    long_name = "x" * 300
    result = ingest_text(tmp_path, "k.csv", f'select,from,"Price 💶",{long_name},"a""b"\n'
                                            "1,2,3,4,5\n")
    names = [c.name for c in result.columns]
    assert names == ["select", "from", "Price 💶", long_name, 'a"b']
    sql = [c.sql_name for c in result.columns]
    assert sql[:3] == ["select_", "from_", "price"]
    assert len(sql[3]) <= 60 and sql[4] == "a_b"
    con = duckdb.connect()
    got = con.execute(f"SELECT select_ + price FROM '{result.parquet_path}'").fetchall()
    assert got == [(4,)]


def test_ten_thousand_columns_refused_quickly(tmp_path: Path) -> None:
    header = ",".join(f"c{i}" for i in range(10_000))
    with pytest.raises(InvalidInput, match="10,000 columns"):
        ingest_text(tmp_path, "wide.csv", header + "\n" + ",".join("1" * 10_000) + "\n")
    assert parquet_files(tmp_path) == []


def test_file_over_upload_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RESEARCH_DESK_UPLOAD_LIMIT_MB", "1")
    reset_settings_cache()
    try:
        assert get_settings().upload_limit_mb == 1
        path = write_bytes(tmp_path, "big.csv", b"a\n" + b"1\n" * 600_000)
        with pytest.raises(InvalidInput, match="over the upload limit"):
            ingest_file(path, original_name="big.csv", dest_dir=tmp_path / "out")
    finally:
        monkeypatch.delenv("RESEARCH_DESK_UPLOAD_LIMIT_MB")
        reset_settings_cache()


def test_late_non_number_keeps_column_as_text(tmp_path: Path) -> None:
    lines = ["id,val"] + [f"{i},{i}" for i in range(30_000)] + ["30000,abc"]
    result = ingest_text(tmp_path, "late.csv", "\n".join(lines) + "\n")
    assert result.rows == 30_001
    assert [c.dtype for c in result.columns] == ["whole number", "text"]


def test_unsupported_extension(tmp_path: Path) -> None:
    path = write_bytes(tmp_path, "a.docx", b"hello")
    with pytest.raises(InvalidInput, match="not supported"):
        ingest_file(path, original_name="a.docx", dest_dir=tmp_path / "out")


# --- JSON, Parquet, Excel ----------------------------------------------------------------

def test_json_records_with_nested_fields(tmp_path: Path) -> None:
    data = [{"name": "Ann", "address": {"city": "Oslo"}, "tags": [1, 2]},
            {"name": "Bo", "address": {"city": "Rome"}, "tags": []}]
    result = ingest_text(tmp_path, "p.json", json.dumps(data))
    assert [c.name for c in result.columns] == ["name", "address.city", "tags"]
    assert rows_of(result) == [("Ann", "Oslo", "[1,2]"), ("Bo", "Rome", "[]")]


def test_ndjson_and_wrapped_list(tmp_path: Path) -> None:
    result = ingest_text(tmp_path, "p.ndjson", '{"a": 1, "b": "x"}\n{"a": 2, "b": "y"}\n')
    assert rows_of(result) == [(1, "x"), (2, "y")]
    wrapped = ingest_text(tmp_path, "w.json", json.dumps({"data": [{"a": 1}, {"a": 2}]}))
    assert rows_of(wrapped) == [(1,), (2,)]


@pytest.mark.parametrize("payload", ['{"config": {"k": 1}, "version": "2"}', "42", "[1, 2, 3]",
                                     '{"a": '])
def test_json_that_is_not_a_table(tmp_path: Path, payload: str) -> None:
    with pytest.raises(InvalidInput, match="JSON"):
        ingest_text(tmp_path, "bad.json", payload)
    assert parquet_files(tmp_path) == []


def test_parquet_with_nested_columns_is_flattened(tmp_path: Path) -> None:
    source = tmp_path / "in.parquet"
    con = duckdb.connect()
    con.execute(f"COPY (SELECT 1 AS id, {{'x': 2, 'y': {{'z': 'q'}}}} AS s, [1, 2] AS l, "
                f"MAP {{'k': 1}} AS m) TO '{source}' (FORMAT parquet)")
    result = ingest_file(source, original_name="in.parquet", dest_dir=tmp_path / "out")
    assert [c.name for c in result.columns] == ["id", "s.x", "s.y.z", "l", "m"]
    assert rows_of(result) == [(1, 2, "q", "[1,2]", '{"k":1}')]


def test_damaged_parquet(tmp_path: Path) -> None:
    path = write_bytes(tmp_path, "x.parquet", b"PAR1 this is not really parquet")
    with pytest.raises(InvalidInput, match="Parquet"):
        ingest_file(path, original_name="x.parquet", dest_dir=tmp_path / "out")


def _workbook(path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Sales"
    sheet.append(["Region", "Units", "Price", "Total"])
    sheet.append(["North", 2, 1.5, "=B2*C2"])
    sheet.append(["South", 4, 2.0, "=B3*C3"])
    sheet.append([None, 1, 3.0, "=B4*C4"])
    sheet.merge_cells("A3:A4")  # "South" spans two rows
    other = workbook.create_sheet("Notes")
    other.append(["note"])
    other.append(["hello"])
    workbook.save(path)


def _add_cached_values(path: Path, values: dict[str, str]) -> None:
    """openpyxl cannot save formula results; write them as Excel would."""
    import re
    import zipfile

    out = path.with_suffix(".tmp")
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                text = data.decode()
                for ref, value in values.items():
                    text = re.sub(rf'(<c r="{ref}"[^>]*>)<f>([^<]*)</f><v\s*/?>(</v>)?',
                                  rf"\1<f>\2</f><v>{value}</v>", text)
                data = text.encode()
            dst.writestr(item, data)
    out.replace(path)


def test_excel_formulas_merged_cells_and_sheets(tmp_path: Path) -> None:
    path = tmp_path / "book.xlsx"
    _workbook(path)
    _add_cached_values(path, {"D2": "3", "D3": "8", "D4": "3"})
    assert list_sheets(path) == ["Sales", "Notes"]
    result = ingest_file(path, original_name="book.xlsx", dest_dir=tmp_path / "out")
    assert result.detected.sheet == "Sales"
    assert any("2 sheets" in w for w in result.warnings)
    assert rows_of(result) == [("North", 2, 1.5, 3), ("South", 4, 2.0, 8), ("South", 1, 3.0, 3)]
    notes = ingest_file(path, original_name="book.xlsx", dest_dir=tmp_path / "out",
                        options=ReadOptions(sheet="Notes"))
    assert rows_of(notes) == [("hello",)]
    with pytest.raises(InvalidInput, match="no sheet called"):
        ingest_file(path, original_name="book.xlsx", dest_dir=tmp_path / "out",
                    options=ReadOptions(sheet="Nope"))


def test_not_really_excel(tmp_path: Path) -> None:
    path = write_bytes(tmp_path, "fake.xlsx", b"PK\x03\x04 nope")
    with pytest.raises(InvalidInput, match="Excel"):
        ingest_file(path, original_name="fake.xlsx", dest_dir=tmp_path / "out")


# --- samples and crash safety ----------------------------------------------------------------

def test_samples(tmp_path: Path) -> None:
    names = sample_datasets()
    assert {"gapminder", "tips", "iris"} <= set(names)
    result = ingest_sample("tips", dest_dir=tmp_path)
    assert result.rows == 244
    assert "total_bill" in [c.name for c in result.columns]
    with pytest.raises(InvalidInput):
        ingest_sample("nope", dest_dir=tmp_path)


def test_failed_ingest_leaves_no_temporary_file(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput):
        ingest_text(tmp_path, "r.csv", "a,b\n1,2\n3\n")
    assert parquet_files(tmp_path) == []
    ok = ingest_text(tmp_path, "ok.csv", "a\n1\n")
    assert parquet_files(tmp_path) == [ok.parquet_path]
