"""How a file is read: controls to override detection, and a sentence saying what was used."""

import streamlit as st

from services.data import text_reading
from services.data.dataset_models import ReadOptions

AUTO = "Detect automatically"
DELIMITERS = {
    AUTO: None,
    "Comma ( , )": ",",
    "Semicolon ( ; )": ";",
    "Tab": "\t",
    "Pipe ( | )": "|",
}
ENCODINGS = {
    AUTO: None,
    "UTF-8": "utf-8",
    "UTF-8 with BOM": "utf-8-sig",
    "UTF-16": "utf-16",
    "Latin-1 (ISO-8859-1)": "latin-1",
    "Windows-1252 (Western Europe)": "cp1252",
    "Windows-1250 (Central Europe)": "cp1250",
    "Windows-1251 (Cyrillic)": "cp1251",
    "KOI8-R (Russian)": "koi8_r",
    "Windows-1253 (Greek)": "cp1253",
    "Windows-1254 (Turkish)": "cp1254",
    "Shift JIS (Japanese)": "cp932",
    "GB18030 (Chinese, simplified)": "gb18030",
    "Big5 (Chinese, traditional)": "big5",
    "EUC-KR (Korean)": "cp949",
}
HEADERS = {
    AUTO: None,
    "Yes, the first row has column names": True,
    "No, the first row is data": False,
}
# The marks text_reading can read, in words; ingest's warnings name these labels.
DECIMAL_LABELS = {".": "Point (1234.5)", ",": "Comma (1234,5)"}
THOUSANDS_LABELS = {
    "": "No separator (1234)",
    ",": "Comma (1,234 or 12,34,567)",
    ".": "Point (1.234)",
    " ": "Space (1 234)",
    "'": "Apostrophe (1'234)",
}
DECIMALS = {AUTO: None} | {DECIMAL_LABELS[d]: d for d in text_reading.DECIMALS}
DATE_ORDERS = {
    AUTO: None,
    "Day first (31/12/2024)": "day_first",
    "Month first (12/31/2024)": "month_first",
}
# Said for text files only: a workbook stores numbers and letters as themselves.
WORKBOOK_HAS_NO = ("separator", "encoding", "decimal mark")
THOUSANDS = {AUTO: None} | {THOUSANDS_LABELS[t]: t for t in text_reading.THOUSANDS}


def _pick(label: str, choices: dict, *, key: str, help: str) -> object:
    chosen = st.selectbox(label, list(choices), key=key, help=help)
    return choices[chosen]


def show(*, key: str, sheets: list[str] | None = None) -> ReadOptions:
    """Controls for the read options; everything defaults to automatic detection."""
    sheet = None
    if sheets:
        sheet = st.selectbox(
            "Sheet", sheets, key=f"{key}_sheet", help="Which sheet of the workbook to read."
        )
    with st.expander("Read options (detected automatically — change only if needed)"):
        left, right = st.columns(2)
        with left:
            delimiter = _pick(
                "Column separator",
                DELIMITERS,
                key=f"{key}_delimiter",
                help="The character between columns in a text file.",
            )
            encoding = _pick(
                "Text encoding",
                ENCODINGS,
                key=f"{key}_encoding",
                help="How letters like é or ü are stored. Try Windows-1252 if accents look wrong.",
            )
            header = _pick(
                "Column names in the first row?",
                HEADERS,
                key=f"{key}_header",
                help="Whether the first row holds the column names.",
            )
        with right:
            decimal = _pick(
                "Decimal mark",
                DECIMALS,
                key=f"{key}_decimal",
                help="How the fraction part of numbers is written. Detected from every "
                "column: 8.425.333 can only mean a decimal comma, 779,45 too.",
            )
            thousands = _pick(
                "Thousands separator",
                THOUSANDS,
                key=f"{key}_thousands",
                help="The mark between groups of digits, if any. Space covers the narrow "
                "spaces some programs write; comma covers Indian grouping (12,34,567).",
            )
            date_order = _pick(
                "Dates written",
                DATE_ORDERS,
                key=f"{key}_date_order",
                help="Whether a date like 03/01/2024 means 3 January (day first, as in most "
                     "countries) or 1 March (month first, as in the US).",
            )
            skip_rows = st.number_input(
                "Skip lines at the top",
                0,
                1000,
                0,
                key=f"{key}_skip",
                help="Ignore title lines above the table.",
            )
            skip_bad = st.checkbox(
                "Skip rows with the wrong number of columns",
                key=f"{key}_skip_bad",
                help="Otherwise such rows stop the import and we tell you which lines they are.",
            )
    return ReadOptions.model_validate(
        {
            "delimiter": delimiter,
            "encoding": encoding,
            "header": header,
            "decimal": decimal,
            "thousands": thousands,
            "sheet": sheet,
            "skip_rows": int(skip_rows),
            "skip_bad_rows": skip_bad,
            "date_order": date_order,
        }
    )


def describe(detected: ReadOptions) -> str:
    """One sentence saying how the file was read. A workbook (it has a sheet) has no
    separator, encoding or decimal mark of its own: only what was read from it is said."""

    def name_of(choices: dict, value: object) -> str | None:
        return next((k for k, v in choices.items() if v == value and k != AUTO), None)

    is_workbook = bool(detected.sheet)
    parts = []
    if detected.sheet:
        parts.append(f"sheet “{detected.sheet}”")
    for label, choices, value in (
        ("separator", DELIMITERS, detected.delimiter),
        ("encoding", ENCODINGS, detected.encoding),
        ("decimal mark", DECIMALS, detected.decimal),
        ("thousands separator", THOUSANDS, detected.thousands),
        ("dates", DATE_ORDERS, detected.date_order),
    ):
        if is_workbook and label in WORKBOOK_HAS_NO:
            continue
        shown = name_of(choices, value)
        if label == "encoding" and value and not shown:
            shown = str(value)  # detected outside the picker's list: say which it was
        if label == "thousands separator" and value == "":
            shown = None if is_workbook else "none"
        if shown:
            parts.append(f"{label}: {shown}")
    if detected.header is not None:
        parts.append(_header_words(detected))
    return "Read with " + ", ".join(parts) + "." if parts else ""


def _header_words(detected: ReadOptions) -> str:
    if not detected.header:
        return "no header row"
    row = detected.skip_rows + 1  # rows above the table (titles) were skipped
    return "first row as column names" if row == 1 else f"row {row:,} as column names"
