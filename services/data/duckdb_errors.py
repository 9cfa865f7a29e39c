"""DuckDB's error text ("CSV Error on Line: 2 …", "No magic bytes found …") turned into one
sentence for people: what happened, and what to try. Nothing of DuckDB's wording, types or
file paths reaches the screen."""

import re

_LINE = re.compile(r"CSV Error on Line: (\d+)")
_COLUMN = re.compile(r'converting column "([^"]+)"')
_VALUE = re.compile(r'(?:Could not convert string|Could not parse string) "([^"]{0,40})')
_COUNTS = re.compile(r"Expected Number of Columns: (\d+) Found: (\d+)")

_TYPES = {"BIGINT": "a whole number", "INTEGER": "a whole number", "DOUBLE": "a number",
          "DATE": "a date", "TIMESTAMP": "a date and time", "BOOLEAN": "true or false"}


def explain(error: BaseException, *, what: str = "The file") -> str:
    """One sentence saying what went wrong reading `what` and what to try next."""
    text = str(error)
    at_line = _LINE.search(text)
    line = f" on line {int(at_line.group(1)):,}" if at_line else ""
    if "Invalid unicode" in text or "not utf-8 encoded" in text:
        return (f"{what} has characters that are not in the expected text encoding{line}; "
                "choose another encoding (for example Windows-1252 or Latin-1) in the read "
                "options and read it again.")
    counts = _COUNTS.search(text)
    if counts:
        return (f"{what} has a row with {int(counts.group(2)):,} values where the first row "
                f"has {int(counts.group(1)):,}{line}; check the separator in the read options, "
                "or tick “Skip rows that do not fit”.")
    if "Could not convert string" in text or "Could not parse string" in text:
        value = _VALUE.search(text)
        column = _COLUMN.search(text)
        shown = f"“{value.group(1)}”" if value else "A value"
        where = f" in “{column.group(1)}”" if column else ""
        kind = next((name for key, name in _TYPES.items() if f"'{key}'" in text),
                    "the expected type")
        return (f"{shown}{where}{line} could not be read as {kind}; change the read options "
                "or correct that value in the file, and read it again.")
    if any(sign in text for sign in ("No magic bytes", "to be a Parquet file", "not a Parquet")):
        return (f"{what} is not a valid Parquet file (it may be damaged or another format); "
                "export it again, or upload it as CSV or Excel.")
    if "Malformed JSON" in text or "JSON" in text and "parse" in text.lower():
        return (f"{what} is not valid JSON{line} (it may be cut short or damaged); export it "
                "again, or upload it as CSV.")
    if "sniff" in text.lower() or "dialect" in text.lower():
        return (f"{what} could not be split into columns; set the separator and whether the "
                "first row holds column names in the read options.")
    if "Out of Memory" in text or "memory" in text.lower() and "limit" in text.lower():
        return (f"{what} needed more memory than is available; keep only the columns you "
                "need, or split it into smaller files.")
    if "No files found" in text or "IO Error" in text:
        return f"{what} could not be opened; upload it again."
    if at_line:
        return (f"{what} could not be read{line}; check that line, or change the read "
                "options and read it again.")
    return (f"{what} could not be read; check that it is the file you meant, or change the "
            "read options and read it again.")
