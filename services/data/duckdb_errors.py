"""The one home of the wording for errors in our own SQL: DuckDB's error text ("CSV Error on
Line: 2 …", "No magic bytes found …", "Conversion Error: …", "INTERRUPT Error …") turned into
one sentence for people: what happened, and what to try. Nothing of DuckDB's wording, types
or file paths reaches the screen.

`explain` words a failure to read an uploaded file; `translate` turns any DuckDB error of
our own SQL into the project's error (`QueryTimeout`, `QueryTooBig`, `InvalidInput`,
`QueryFailed`) with the sentence for what that SQL was doing (a `Task`: CHART, CLEANING, …).
`services.data.duck` calls it for every query it runs. (SQL we did not write, Ask's, is
worded by the sandbox.)"""

import re
from dataclasses import dataclass, replace

import duckdb

from services.errors import (
    InvalidInput,
    QueryFailed,
    QueryTimeout,
    QueryTooBig,
    ResearchDeskError,
)

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


# --- our own queries --------------------------------------------------------------------

@dataclass(frozen=True)
class Task:
    """What one piece of our own SQL was doing, in the words of the sentence that says it
    failed: "{subject} {failed}; {advice}."  `file` names an uploaded file being read (then
    `explain` words the sentence); `fault` is the error a failure is reported as (the
    person's input, `InvalidInput`, or ours, `QueryFailed`)."""

    subject: str
    failed: str = "could not be worked out"
    advice: str = "try again, and if it keeps happening tell an admin"
    smaller: str = "try again with less data"  # what to try when it was too slow or too big
    fault: type[ResearchDeskError] = QueryFailed
    file: str | None = None
    value_advice: str | None = None  # what to try when a value did not fit (else `advice`)


OWN_QUERY = Task("The data")
SCHEMA = Task("The dataset's columns", "could not be read",
              "check that the dataset still has this version, or restore an earlier one")
CHART = Task("The chart data", "could not be computed from this file",
             "try a different column or remove a filter",
             "add a filter, or choose a column with fewer values",
             value_advice="check the filter values (for example text in a number range)")
PREVIEW = Task("The first rows", "could not be shown",
               "check that the dataset still has this version, or restore an earlier one")
STATISTICS = Task("The statistics", "could not be computed", "try other columns",
                  "choose fewer columns")
PROFILE = Task("The column summaries", "could not be computed",
               "read the file again, or restore an earlier version",
               "keep only the columns you need and read the file again")
QUALITY = Task("The quality check", "could not be finished",
               "read the file again, or restore an earlier version",
               "keep only the columns you need and read the file again")
DOWNLOAD = Task("The download", "could not be prepared", "try again in a moment",
                "download the Parquet file instead")
CLEANING = Task("The cleaning steps", "could not be applied", "check the values in the steps",
                "filter out rows or drop columns first", fault=InvalidInput)
CLEANING_PREVIEW = Task("The cleaning steps", "could not be tried out",
                        "check the values in the steps",
                        "filter out rows or drop columns first", fault=InvalidInput)
UPLOAD = Task("Reading the file", "did not work", "check the read options",
              "split it into smaller files, or keep only the columns you need",
              fault=InvalidInput)
ASK_SAMPLE = Task("The example rows for Claude", "could not be read",
                  "turn off sending example rows, or restore an earlier version")


def cleaning_step(index: int, description: str) -> Task:
    """Step 3 (“Trim spaces in City”) cannot be applied; …"""
    return replace(CLEANING, subject=f"Step {index} (“{description}”)", failed="cannot be applied")


def reading(file_name: str) -> Task:
    """Reading an uploaded file called `file_name` (sentences from `explain`)."""
    return Task(f"“{file_name}”", "could not be read", fault=InvalidInput,
                file=f"“{file_name}”")


_SQL_VALUE = re.compile(r"Could not convert string '([^']{0,40})")
_DUCK_TYPES = {"INT8": "BIGINT", "INT64": "BIGINT", "INT32": "INTEGER", "INT16": "INTEGER",
               "FLOAT": "DOUBLE", "DECIMAL": "DOUBLE", "TIMESTAMP WITH TIME ZONE": "TIMESTAMP"}
_MISSING_COLUMN = ("Referenced column", "not found in FROM clause", "does not have a column",
                   "Catalog Error")
_WRONG_KIND = ("No function matches", "Cannot compare", "Cannot mix", "No operator matches",
               "Could not choose a best candidate")


def _lower(subject: str) -> str:
    """The chart data → the chart data; a “quoted” name and Step 3 stay as they are."""
    return subject[0].lower() + subject[1:] if subject.startswith("The ") else subject


def translate(error: BaseException, task: Task = OWN_QUERY, *, seconds: float | None = None,
              memory_mb: int | None = None, timed_out: bool = False) -> ResearchDeskError:
    """The one sentence, and the kind of error, for a DuckDB error in our own SQL: stopped
    at its time limit (`QueryTimeout`), out of memory (`QueryTooBig`), a value that does not
    fit its type or a column that is missing (`task.fault`), anything else (`task.fault`).
    Nothing of DuckDB's wording, types or file paths is in it."""
    text = str(error)
    if timed_out or isinstance(error, duckdb.InterruptException):
        limit = f"longer than {seconds:g} seconds" if seconds else "too long"
        return QueryTimeout(f"{task.subject} took {limit} and was stopped; {task.smaller}.")
    if task.file is not None:
        return task.fault(explain(error, what=task.file))
    if isinstance(error, duckdb.OutOfMemoryException) or "Out of Memory" in text:
        allowed = f" ({memory_mb:,} MB)" if memory_mb else ""
        return QueryTooBig(f"{task.subject} needed more memory than Research Desk may use"
                           f"{allowed}; {task.smaller}.")
    if isinstance(error, duckdb.ConversionException) or "Could not convert" in text:
        value = _SQL_VALUE.search(text) or _VALUE.search(text)
        shown = f"“{value.group(1)}”" if value else "A value"
        target = re.search(r" to ([A-Z][A-Z0-9 ]*[A-Z0-9])", text.split("\n")[0])
        duck_type = _DUCK_TYPES.get(target.group(1), target.group(1)) if target else ""
        kind = _TYPES.get(duck_type, "the type its column needs")
        return InvalidInput(f"{shown} could not be read as {kind}, so {_lower(task.subject)} "
                            f"{task.failed}; {task.value_advice or task.advice}.")
    if any(sign in text for sign in _MISSING_COLUMN):
        return task.fault(f"{task.subject} {task.failed} because a column it needs is "
                          f"missing; {task.advice}.")
    if isinstance(error, duckdb.TypeMismatchException) or any(sign in text
                                                               for sign in _WRONG_KIND):
        return task.fault(f"{task.subject} {task.failed} because a column does not hold the "
                          f"kind of values it needs; {task.advice}.")
    if isinstance(error, duckdb.IOException) or "No files found" in text:
        return task.fault(f"{task.subject} {task.failed} because the dataset's file could not "
                          "be opened; check that this version still exists, or restore an "
                          "earlier one.")
    return task.fault(f"{task.subject} {task.failed}; {task.advice}.")
