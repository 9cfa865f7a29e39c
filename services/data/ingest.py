"""Read an uploaded file (CSV/TSV/TXT, Excel, Parquet, JSON/NDJSON) into one Parquet file.

Everything streams through DuckDB (`COPY (SELECT ...) TO parquet`); only a small sample is
read in Python to detect the encoding, delimiter, header and number format. The Parquet
file is written under a temporary name and renamed at the end, so an interrupted ingest
never leaves a readable half file (stray `.*.tmp` files can be deleted at start-up).
"""

import codecs
import csv
import io
import math
import os
import re
import shutil
import uuid
from collections import Counter
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import duckdb

from services.data import (
    bounded_child,
    display_text,
    duck,
    duckdb_errors,
    text_encoding,
    text_reading,
)
from services.data.dataset_models import ColumnInfo, IngestResult, ReadOptions
from services.data.sql_names import (
    derive_sql_names,
    kv_metadata_clause,
    path_literal,
    quote_ident,
    read_columns,
    sql_literal,
    unique_display_names,
)
from services.data.uploads import (
    ACCEPTED_WORDS,
    EXCEL_EXTENSIONS,
    JSON_EXTENSIONS,
    PARQUET_EXTENSIONS,
    TEXT_EXTENSIONS,
)
from services.errors import InvalidInput, TooLarge
from services.settings import get_settings

MAX_COLUMNS = 2_000
SAMPLE_BYTES = 1 << 20  # detection looks at the first 1 MB only
SAMPLE_ROWS = 2_000
TYPE_RETRIES = 8
DELIMITERS = [",", ";", "\t", "|"]
SAMPLES: dict[str, str] = {
    "gapminder": "Gapminder: life expectancy, population and GDP by country",
    "tips": "Restaurant tips",
    "iris": "Iris flowers",
    "stocks": "Tech stock prices",
    "wind": "Wind speed and direction",
    "election": "Montreal election results",
    "carshare": "Car sharing availability",
    "medals_long": "Olympic medals (long table)",
    "medals_wide": "Olympic medals (wide table)",
    "experiment": "Experiment results",
}


def ingest_file(path: Path, *, original_name: str, dest_dir: Path,
                options: ReadOptions | None = None) -> IngestResult:
    """Read `path` (uploaded as `original_name`) into a new Parquet file in `dest_dir`."""
    options = options or ReadOptions()
    if not path.is_file():
        raise InvalidInput("The uploaded file could not be found; please upload it again.")
    size = path.stat().st_size
    limit_mb = get_settings().upload_limit_mb
    if size > limit_mb * 1024 * 1024:
        raise InvalidInput(f"The file is {size / 1024 / 1024:,.0f} MB, over the upload limit of "
                           f"{limit_mb:,} MB; split it or keep only the columns you need.")
    if size == 0:
        raise InvalidInput("The file is empty; choose a file that contains data.")
    reader = _reader_for(original_name, path)
    dest_dir.mkdir(parents=True, exist_ok=True)
    final = dest_dir / f"{uuid.uuid4().hex}.parquet"
    tmp = dest_dir / f".{final.stem}.parquet.tmp"
    try:
        result = reader(path, tmp, options)
        os.replace(tmp, final)
    except duckdb.Error as error:
        raise duckdb_errors.translate(error, duckdb_errors.reading(original_name)) from error
    finally:
        tmp.unlink(missing_ok=True)
    return result.model_copy(update={"parquet_path": final})


def list_sheets(path: Path) -> list[str]:
    """Sheet names of an Excel workbook, in workbook order (read in a bounded child)."""
    return list(_excel_in_child("sheet_names", path=str(path)))


def sample_datasets() -> list[str]:
    """Names of the built-in sample datasets that exist in this plotly version."""
    import plotly.express as px

    return [name for name in SAMPLES if hasattr(px.data, name)]


def sample_title(name: str) -> str:
    return SAMPLES.get(name, name)


def ingest_sample(name: str, *, dest_dir: Path) -> IngestResult:
    """Write one of the `plotly.express.data` sets (available offline) as a dataset."""
    import plotly.express as px

    key = next((k for k, title in SAMPLES.items() if name in (k, title)), name)
    if key not in sample_datasets():
        raise InvalidInput(f"There is no sample dataset called “{name}”.")
    frame = getattr(px.data, key)()  # small, bundled with plotly
    dest_dir.mkdir(parents=True, exist_ok=True)
    final = dest_dir / f"{uuid.uuid4().hex}.parquet"
    tmp = dest_dir / f".{final.stem}.parquet.tmp"
    try:
        with duck.session() as con:
            con.register("sample_frame", frame)
            source = "sample_frame"
            names = [str(c) for c in frame.columns]
            rows, columns = _copy_select(con, source, names, [quote_ident(n) for n in names],
                                         tmp)
            os.replace(tmp, final)
    finally:
        tmp.unlink(missing_ok=True)
    return IngestResult(parquet_path=final, rows=rows, columns=columns,
                        detected=ReadOptions(), format="sample")


# --- dispatch ---------------------------------------------------------------------------

Reader = Callable[[Path, Path, ReadOptions], IngestResult]


def _reader_for(original_name: str, path: Path) -> Reader:
    suffix = Path(original_name).suffix.lower()
    with path.open("rb") as handle:
        magic = handle.read(4)
    if suffix in EXCEL_EXTENSIONS or (magic == b"PK\x03\x04" and suffix not in TEXT_EXTENSIONS):
        return _read_excel
    if suffix == ".xls":
        raise InvalidInput("Old Excel files (.xls) are not supported; save it as .xlsx or CSV.")
    if suffix in PARQUET_EXTENSIONS or magic == b"PAR1":
        return _read_parquet
    if suffix in JSON_EXTENSIONS:
        return _read_json
    if suffix in TEXT_EXTENSIONS or not suffix:
        return _read_csv
    raise InvalidInput(f"Files ending in “{suffix}” are not supported; use {ACCEPTED_WORDS}.")


def _session() -> AbstractContextManager[duckdb.DuckDBPyConnection]:
    """A session for reading an upload: DuckDB's errors leave it as they are, so
    `ingest_file` words them with the file's name."""
    return duck.session(task=duckdb_errors.UPLOAD, translate=False)


def _copy_select(con: duckdb.DuckDBPyConnection, source: str, display: list[str],
                 exprs: list[str], tmp: Path) -> tuple[int, list[ColumnInfo]]:
    """COPY (SELECT exprs AS sql_names FROM source) to tmp; returns rows and columns."""
    sql_names = derive_sql_names(display)
    select = ", ".join(f"{e} AS {quote_ident(s)}" for e, s in zip(exprs, sql_names, strict=True))
    infos = [ColumnInfo(name=d, sql_name=s, dtype="") for d, s in zip(display, sql_names,
                                                                       strict=True)]
    written = con.execute(
        f"COPY (SELECT {select} FROM {source}) TO {path_literal(tmp)} "
        f"(FORMAT parquet, {kv_metadata_clause(infos)})"
    ).fetchall()
    return int(written[0][0]), read_columns(tmp, con)


# --- CSV --------------------------------------------------------------------------------

def _decode_sample(head: bytes, encoding: str) -> str:
    text = head.decode(encoding, errors="ignore")
    control = sum(1 for ch in text[:65536] if ord(ch) < 32 and ch not in "\r\n\t\f")
    if control > max(3, len(text[:65536]) // 100):
        raise InvalidInput("This does not look like a text file (it contains binary data); "
                           "check that you picked the right file.")
    return text


def _duckdb_encoding(path: Path, encoding: str, scratch: Path) -> tuple[Path, str]:
    """DuckDB reads UTF-8, UTF-16 (little-endian with BOM) and latin-1 natively; anything
    else is transcoded to a UTF-8 scratch file in 1 MB chunks (never the whole file)."""
    native = {"utf-8": "utf-8", "utf-8-sig": "utf-8", "utf-16": "utf-16", "latin-1": "latin-1"}
    if encoding in native:
        return path, native[encoding]
    with (codecs.open(str(path), "r", encoding=encoding, errors="replace") as src,
          scratch.open("w", encoding="utf-8", newline="") as dst):
        shutil.copyfileobj(src, dst, SAMPLE_BYTES)
    return scratch, "utf-8"


def _complete_lines(text: str, is_whole_file: bool) -> list[str]:
    lines = text.lstrip("\ufeff").splitlines()
    if not is_whole_file and len(lines) > 1:
        lines = lines[:-1]  # the last line may be cut by the sample boundary
    return lines


def _parse_sample(lines: list[str], delimiter: str, quote: str) -> list[list[str]]:
    # a cell may be as long as the whole sample; Python's default limit is 131,072
    csv.field_size_limit(max(csv.field_size_limit(), 4 * SAMPLE_BYTES))
    reader = csv.reader(io.StringIO("\n".join(lines)), delimiter=delimiter, quotechar=quote)
    return [row for row in reader if any(cell.strip() for cell in row)]


def _guess_delimiter(lines: list[str], quote: str) -> str:
    best, best_score = ",", (0.0, 0)
    for delimiter in DELIMITERS:
        rows = _parse_sample(lines[:200], delimiter, quote)
        counts = Counter(len(r) for r in rows)
        if not counts:
            continue
        width, seen = counts.most_common(1)[0]
        score = (seen / len(rows), width)
        if width > 1 and score > best_score:
            best, best_score = delimiter, score
    return best


def _sniff_header(con: duckdb.DuckDBPyConnection, path: Path, opts: ReadOptions) -> bool:
    try:
        row = con.execute(
            f"SELECT HasHeader FROM sniff_csv({path_literal(path)}, "
            f"delim={sql_literal(opts.delimiter)}, quote={sql_literal(opts.quote)}, "
            f"skip={int(opts.skip_rows)}, encoding={sql_literal(opts.encoding)}, "
            "sample_size=2048, strict_mode=false)"
        ).fetchone()
    except duckdb.Error:
        return True
    return bool(row[0]) if row else True


def _read_csv(path: Path, tmp: Path, options: ReadOptions) -> IngestResult:
    with path.open("rb") as handle:
        head = handle.read(SAMPLE_BYTES)
    if not head.strip():
        raise InvalidInput("The file is empty; choose a file that contains data.")
    encoding = (text_encoding.check_encoding(options.encoding) if options.encoding
                else text_encoding.detect_encoding(head))
    text = _decode_sample(head, encoding if encoding != "utf-16" else "utf-16")
    lines = _complete_lines(text, len(head) < SAMPLE_BYTES)[options.skip_rows:]
    lines = [line for line in lines if line.strip()]
    if not lines:
        raise InvalidInput("The file is empty; choose a file that contains data.")
    quote = options.quote or '"'
    delimiter = options.delimiter or _guess_delimiter(lines, quote)
    rows = _parse_sample(lines[:SAMPLE_ROWS + 1], delimiter, quote)
    if len(rows[0]) > MAX_COLUMNS:
        raise InvalidInput(f"This file has {len(rows[0]):,} columns; Research Desk reads up to "
                           f"{MAX_COLUMNS:,}. Keep the columns you need and upload it again.")
    scratch = tmp.with_name(tmp.name + ".utf8")
    try:
        source, duck_encoding = _duckdb_encoding(path, encoding, scratch)
        detected = ReadOptions(delimiter=delimiter, quote=quote, encoding=encoding,
                               decimal=".", thousands="", skip_rows=options.skip_rows,
                               skip_bad_rows=options.skip_bad_rows)
        return _copy_csv(source, tmp, options, detected, rows, duck_encoding)
    finally:
        scratch.unlink(missing_ok=True)


def _copy_csv(source: Path, tmp: Path, options: ReadOptions, detected: ReadOptions,
              rows: list[list[str]], duck_encoding: str) -> IngestResult:
    with _session() as con:
        probe = detected.model_copy(update={"encoding": duck_encoding})
        header = options.header if options.header is not None else _sniff_header(con, source,
                                                                                   probe)
        detected.header = header
        width = len(rows[0])
        raw_names: list[str | None] = list(rows[0]) if header else [None] * width
        display, warnings = unique_display_names(raw_names)
        if not header:
            display = [f"Column {i}" for i in range(1, width + 1)]
            warnings = []
        data_rows = rows[1:] if header else rows
        missing = text_reading.decide_missing_markers(_sample_columns(data_rows, width))
        typed_rows = missing.blank(data_rows)  # markers read as missing count as empty
        numbers = _decide_numbers(typed_rows, detected, options)
        for index in missing.only_in:  # "None" is a value elsewhere: read it here ourselves
            if index not in numbers.columns and _is_number_column(typed_rows, index):
                numbers.columns[index] = text_reading.NumberFormat(decimal=numbers.decimal)
        convert = set(numbers.columns)
        sql_names = derive_sql_names(display)
        dates = {c.index: c for c in text_reading.find_date_columns(typed_rows, skip=convert)}
        orders = {i: text_reading.order_for(c, options.date_order, list(dates.values()))
                  for i, c in dates.items()}
        detected.date_order = next(iter(orders.values()), None)
        forced_text: set[str] = {sql_names[i] for i in (*convert, *dates)}
        for _ in range(TYPE_RETRIES):
            exprs = [text_reading.number_sql(quote_ident(s), numbers.columns[i], strict=True,
                                             units=i in numbers.units) if i in convert
                     else text_reading.date_expr(quote_ident(s), dates[i], orders[i]) if i in dates
                     else quote_ident(s) for i, s in enumerate(sql_names)]
            exprs = [_blank_markers(e, quote_ident(s), missing.only_in[i])
                     if i in missing.only_in and (i in convert or i in dates) else e
                     for i, (e, s) in enumerate(zip(exprs, sql_names, strict=True))]
            try:
                count, columns = _copy_select(
                    con, _read_csv_sql(source, probe, header, sql_names, forced_text,
                                       missing.markers),
                    display, exprs, tmp)
                break
            except duckdb.ConversionException as error:
                column = _failed_column(str(error), sql_names)
                if column is not None and column not in forced_text:
                    forced_text.add(column)  # a value late in the file is not a number/date
                    continue
                if not convert:
                    raise
                listed = ", ".join(f"“{display[i]}”" for i in sorted(convert))
                warnings.append(f"{listed} looked like numbers but some values are not, so "
                                "they were kept as text.")
                convert.clear()
            except duckdb.InvalidInputException as error:
                if dates and "Could not parse string" in str(error):
                    listed = ", ".join(f"“{display[i]}”" for i in sorted(dates))
                    warnings.append(f"{listed} looked like dates but some values are not, so "
                                    "they were kept as text.")
                    dates.clear()
                    detected.date_order = None
                    continue
                if not re.search("Expected Number of Columns|sniffing", str(error)):
                    raise
                _raise_ragged(con, source, probe, header, sql_names)
        else:
            raise InvalidInput("The column types could not be worked out; try reading the "
                               "file again with different options.")
        if options.skip_bad_rows:
            warnings += _skipped_rows_warning(con)
        if count == 0:
            warnings.append("The file has column names but no rows of data.")
        if convert:
            listed = ", ".join(f"“{display[i]}”" for i in sorted(convert))
            warnings.append(f"Read {listed} as numbers (written like "
                            f"“{_example(typed_rows, min(convert))}”).")
        warnings += _number_style_warnings(numbers, convert, display, typed_rows)
        warnings += _missing_markers_warning(missing, display)
        warnings += _ambiguous_dates_warning(dates, orders, display, options)
        return IngestResult(parquet_path=tmp, rows=count, columns=columns, detected=detected,
                            warnings=warnings, format="csv")


def _ambiguous_dates_warning(dates: dict[int, text_reading.DateColumn],
                             orders: dict[int, text_reading.DateOrder],
                             display: list[str], options: ReadOptions) -> list[str]:
    """Say how dates that could mean two days were read, and how to change it."""
    columns = list(dates.values())
    unsure = [i for i, c in sorted(dates.items())
              if text_reading.is_guess(c, options.date_order, columns)]
    if not unsure:
        return []
    first = dates[unsure[0]]
    order = orders[unsure[0]]
    other = "month first" if order == text_reading.DAY_FIRST else "day first"
    listed = ", ".join(f"“{display[i]}”" for i in unsure)
    return [f"Dates in {listed} such as “{first.example}” could be read two ways; they were "
            f"read {order.replace('_', ' ')} ({text_reading.spelled_out(first, order)}). If that "
            f"is wrong, choose “{other.capitalize()}” for “Dates written” under Read options "
            "and read the file again."]


def _decide_numbers(rows: list[list[str]], detected: ReadOptions, options: ReadOptions,
                    ) -> text_reading.NumberDecision:
    """Decide the number format for the whole file from the sample values of every column
    (text_reading); the person's read options win. Sets the detected marks."""
    evidence = []
    width = max((len(r) for r in rows), default=0)
    for index in range(width):
        values = [r[index].strip() for r in rows if index < len(r) and r[index].strip()]
        found = text_reading.column_evidence(index, values) if values else None
        if found is not None:
            evidence.append(found)
    decision = text_reading.decide_numbers(
        evidence, delimiter=detected.delimiter or ",", decimal=options.decimal,
        thousands=options.thousands)
    detected.decimal = decision.decimal
    detected.thousands = decision.thousands
    return decision


def _number_style_warnings(numbers: text_reading.NumberDecision, convert: set[int],
                           display: list[str], rows: list[list[str]]) -> list[str]:
    """Say when numbers could be read two ways, or columns disagree, and how to change it."""
    def names(indexes: list[int]) -> str:
        return ", ".join(f"“{display[i]}”" for i in indexes)

    marks = text_reading.DECIMAL_NAMES
    chosen = numbers.decimal
    other = "," if chosen == "." else "."
    option = (f"choose “{'Comma' if other == ',' else 'Point'}” for “Decimal mark” under "
              "Read options and read the file again")
    # a plain 1.234 read with a decimal point is DuckDB's reading too: only worth a word
    # when the file also proves the other mark somewhere
    guessed = [i for i in numbers.guessed if i in convert or numbers.split]
    if numbers.split:
        commas, points = numbers.split[","], numbers.split["."]
        sentence = (f"The file writes numbers two ways: {names(commas)} with a decimal comma "
                    f"(like “{_example(rows, commas[0])}”) and {names(points)} with a decimal "
                    f"point (like “{_example(rows, points[0])}”); each was read as its values "
                    "show.")
        if guessed:
            verb = "was" if len(guessed) == 1 else "were"
            sentence += (f" {names(guessed)} could be read either way and {verb} read with a "
                         f"decimal {marks[chosen]}; if that is wrong, {option}.")
        else:
            sentence += (" If one of them is wrong, choose its mark for “Decimal mark” and "
                         "“Thousands separator” under Read options and read the file again.")
        return [sentence]
    if not guessed:
        return []
    example = _example(rows, guessed[0])
    value = text_reading.parse_number(example, chosen)
    if value is None:
        shown = example
    elif value.is_integer():
        shown = f"the whole number {display_text.exact_number(value)}"
    else:
        low = math.floor(value)
        shown = f"{display_text.exact_number(value)}, between {low} and {low + 1}"
    return [f"Numbers in {names(guessed)} such as “{example}” could be read two ways; they "
            f"were read with a decimal {marks[chosen]} (as {shown}). If that is wrong, "
            f"{option}."]


def _example(rows: list[list[str]], index: int) -> str:
    return next((r[index].strip() for r in rows if index < len(r) and r[index].strip()), "")


def _sample_columns(rows: list[list[str]], width: int) -> list[list[str]]:
    """Each column's stripped, non-empty sample values."""
    return [[r[i].strip() for r in rows if i < len(r) and r[i].strip()] for i in range(width)]


def _is_number_column(rows: list[list[str]], index: int) -> bool:
    values = [r[index].strip() for r in rows if index < len(r) and r[index].strip()]
    return bool(values) and text_reading.column_evidence(index, values) is not None


def _blank_markers(expr: str, column_sql: str, spellings: list[str]) -> str:
    """`expr`, but missing where the column holds one of these marker spellings."""
    listed = ", ".join(sql_literal(m) for m in spellings)
    return f"(CASE WHEN trim({column_sql}) IN ({listed}) THEN NULL ELSE {expr} END)"


def _missing_markers_warning(missing: text_reading.MissingDecision,
                             display: list[str]) -> list[str]:
    """“NA” was read as a missing value in 5 columns: “a”, “b”, …."""
    sentences = []
    for spelling in missing.spellings():
        indexes = missing.columns_for(spelling)
        names = [f"“{display[i]}”" for i in indexes if i < len(display)]
        if not names:
            continue
        shown = ", ".join(names[:6]) + (f" and {len(names) - 6:,} more" if len(names) > 6
                                        else "")
        where = f"1 column ({shown})" if len(names) == 1 else f"{len(names):,} columns: {shown}"
        sentences.append(f"“{spelling}” was read as a missing value in {where}.")
    return sentences


def _read_csv_sql(source: Path, opts: ReadOptions, header: bool, sql_names: list[str],
                  forced_text: set[str], missing: list[str] | None = None) -> str:
    names = "[" + ", ".join(sql_literal(n) for n in sql_names) + "]"
    types = "{" + ", ".join(f"{sql_literal(n)}: 'VARCHAR'" for n in sorted(forced_text)) + "}"
    parts = [
        path_literal(source), f"delim={sql_literal(opts.delimiter)}",
        f"quote={sql_literal(opts.quote)}", f"escape={sql_literal(opts.quote)}",
        f"header={'true' if header else 'false'}", f"skip={int(opts.skip_rows)}",
        f"encoding={sql_literal(opts.encoding)}", f"names={names}", "strict_mode=true",
        "null_padding=false",
    ]
    if forced_text:
        parts.append(f"types={types}")
    if missing:  # the file's missing-value markers (text_reading decides which)
        parts.append("nullstr=[" + ", ".join(sql_literal(m) for m in ["", *missing]) + "]")
    if opts.skip_bad_rows:
        parts += ["ignore_errors=true", "store_rejects=true"]
    return "read_csv(" + ", ".join(parts) + ")"


def _failed_column(message: str, sql_names: list[str]) -> str | None:
    match = re.search(r'converting column "([^"]+)"', message)
    if match and match.group(1) in sql_names:
        return match.group(1)
    return None


def _raise_ragged(con: duckdb.DuckDBPyConnection, source: Path, opts: ReadOptions,
                  header: bool, sql_names: list[str]) -> None:
    columns = "{" + ", ".join(f"{sql_literal(n)}: 'VARCHAR'" for n in sql_names) + "}"
    con.execute(
        f"SELECT count(*) FROM read_csv({path_literal(source)}, "
        f"delim={sql_literal(opts.delimiter)}, quote={sql_literal(opts.quote)}, "
        f"escape={sql_literal(opts.quote)}, header={'true' if header else 'false'}, "
        f"skip={int(opts.skip_rows)}, encoding={sql_literal(opts.encoding)}, "
        f"columns={columns}, auto_detect=false, ignore_errors=true, store_rejects=true)"
    ).fetchall()
    lines = [int(r[0]) for r in con.execute(
        "SELECT DISTINCT line FROM reject_errors ORDER BY line LIMIT 11").fetchall()]
    if not lines:
        raise InvalidInput("The file could not be split into columns; check the delimiter "
                           "and quote character and read it again.")
    total = con.execute("SELECT count(DISTINCT line) FROM reject_errors").fetchone()
    shown = ", ".join(f"{n:,}" for n in lines[:10])
    more = f" and {int(total[0]) - 10:,} more" if total and int(total[0]) > 10 else ""
    raise InvalidInput(f"Some rows do not have {len(sql_names):,} values like the first row "
                       f"(line {shown}{more}). Fix those lines, or choose “Skip rows that don't "
                       "fit” and read the file again.")


def _skipped_rows_warning(con: duckdb.DuckDBPyConnection) -> list[str]:
    lines = [int(r[0]) for r in con.execute(
        "SELECT DISTINCT line FROM reject_errors ORDER BY line").fetchall()]
    if not lines:
        return []
    shown = ", ".join(f"{n:,}" for n in lines[:10])
    more = f" and {len(lines) - 10:,} more" if len(lines) > 10 else ""
    return [f"Skipped {len(lines):,} rows that did not fit (line {shown}{more})."]


# --- Excel ------------------------------------------------------------------------------

def _excel_in_child(function: str, **args: object) -> Any:
    """`excel_reading.function(**args)` in a bounded child process: a workbook's size
    inside its archive is not known until it is unpacked, so the server never unpacks it."""
    settings = get_settings()
    try:
        return bounded_child.run("services.data.excel_reading", function, args,
                                 memory_mb=settings.file_read_memory_mb,
                                 seconds=settings.file_read_seconds)
    except bounded_child.OutOfMemory as error:
        raise TooLarge("This Excel file needs more memory than Research Desk allows for "
                       f"reading a file ({settings.file_read_memory_mb:,} MB); save it as CSV "
                       "or split it.") from error
    except bounded_child.TimedOut as error:
        raise TooLarge("This Excel file takes longer to read than Research Desk allows for "
                       f"reading a file ({settings.file_read_seconds:,g} seconds); save it "
                       "as CSV or split it.") from error


def _read_excel(path: Path, tmp: Path, options: ReadOptions) -> IngestResult:
    scratch = tmp.with_name(tmp.name + ".csv")
    try:
        read = _excel_in_child("sheet_to_csv", path=str(path), scratch=str(scratch),
                               sheet=options.sheet, skip_rows=options.skip_rows,
                               max_cells=get_settings().excel_max_cells)
        # Excel's own numbers arrive as 1234.5; text cells such as "1,234" are read
        # with the thousands mark their values show.
        csv_options = ReadOptions(delimiter=",", quote='"', encoding="utf-8", decimal=".",
                                  thousands=options.thousands, header=options.header,
                                  skip_bad_rows=options.skip_bad_rows)
        result = _read_csv(scratch, tmp, csv_options)
    finally:
        scratch.unlink(missing_ok=True)
    detected = result.detected.model_copy(update={"sheet": read["sheet"],
                                                  "skip_rows": read["skipped"]})
    return result.model_copy(update={"detected": detected, "format": "excel",
                                     "warnings": list(read["warnings"]) + result.warnings})


# --- Parquet and JSON -------------------------------------------------------------------

def _flat_columns(con: duckdb.DuckDBPyConnection, source: str,
                  ) -> tuple[list[str], list[str], list[str]]:
    """(display names, expressions, warnings): structs become "a.b" columns, lists and
    maps become JSON text, so every column is a plain value."""
    schema = con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()
    display: list[str] = []
    exprs: list[str] = []
    as_json: list[str] = []

    def add(name: str, expr: str, duck_type: str) -> None:
        if duck_type.startswith("STRUCT("):
            fields = con.execute(f"DESCRIBE SELECT UNNEST({expr}) FROM {source} LIMIT 0"
                                 ).fetchall()
            for field in fields:
                add(f"{name}.{field[0]}", f"{expr}[{sql_literal(str(field[0]))}]", str(field[1]))
            return
        if duck_type.endswith("]") or duck_type.startswith(("MAP(", "UNION(")):
            as_json.append(name)
            expr = f"CAST(to_json({expr}) AS VARCHAR)"
        display.append(name)
        exprs.append(expr)

    for row in schema:
        add(str(row[0]), quote_ident(str(row[0])), str(row[1]))
    warnings = []
    if any("." in d for d in display):
        warnings.append("Nested fields were spread into their own columns (named like "
                        "“address.city”).")
    if as_json:
        listed = ", ".join(f"“{n}”" for n in as_json[:10])
        warnings.append(f"{listed} hold lists, so they are kept as text.")
    return display, exprs, warnings


def _write_flat(con: duckdb.DuckDBPyConnection, source: str, tmp: Path, fmt: str,
                ) -> IngestResult:
    display, exprs, warnings = _flat_columns(con, source)
    if len(display) > MAX_COLUMNS:
        raise InvalidInput(f"This file has {len(display):,} columns; Research Desk reads up to "
                           f"{MAX_COLUMNS:,}. Keep the columns you need and upload it again.")
    names, name_warnings = unique_display_names(list(display))
    rows, columns = _copy_select(con, source, names, exprs, tmp)
    if rows == 0:
        warnings.append("The file has column names but no rows of data.")
    return IngestResult(parquet_path=tmp, rows=rows, columns=columns, detected=ReadOptions(),
                        warnings=name_warnings + warnings, format=fmt)


def _read_parquet(path: Path, tmp: Path, options: ReadOptions) -> IngestResult:
    with _session() as con:
        try:
            con.execute(f"SELECT * FROM read_parquet({path_literal(path)}) LIMIT 0").fetchall()
        except duckdb.Error as error:
            raise InvalidInput("This is not a Parquet file we can read; it may be damaged."
                               ) from error
        return _write_flat(con, f"read_parquet({path_literal(path)})", tmp, "parquet")


def _read_json(path: Path, tmp: Path, options: ReadOptions) -> IngestResult:
    source = f"read_json({path_literal(path)}, format='auto', sample_size=20480)"
    with _session() as con:
        try:
            schema = con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()
            rows = con.execute(f"SELECT count(*) FROM (FROM {source} LIMIT 2)").fetchone()
        except duckdb.Error as error:
            raise InvalidInput("This file is not valid JSON; check that it was saved as JSON "
                               "or NDJSON (one object per line).") from error
        n_rows = int(rows[0]) if rows else 0
        types = [str(r[1]) for r in schema]
        if n_rows == 1 and len(types) == 1 and types[0].startswith("STRUCT(") and \
                types[0].endswith("[]"):
            # {"data": [{...}, {...}]}: the table is the one list inside the object
            source = f"(SELECT UNNEST({quote_ident(str(schema[0][0]))}, max_depth := 2) " \
                     f"FROM {source})"
        elif _is_not_tabular(schema, n_rows):
            raise InvalidInput("This JSON file is not a table; we need a list of objects such "
                               'as [{"name": "Ann", "age": 31}, ...] or one object per line.')
        return _write_flat(con, source, tmp, "json")


def _is_not_tabular(schema: list[tuple[object, ...]], n_rows: int) -> bool:
    if not schema or n_rows == 0:
        return True
    if len(schema) == 1 and str(schema[0][0]) == "json":
        return True  # a bare number, string or list of scalars
    nested = sum(1 for r in schema if str(r[1]).startswith(("STRUCT(", "MAP(")) or
                 str(r[1]).endswith("]"))
    return n_rows == 1 and nested > 0
