"""Pydantic models shared by ingest, profile, quality and cleaning (RORO in and out)."""

from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from services.data import column_kinds

FriendlyType = Literal[
    "number", "whole number", "text", "date", "date and time", "time", "true/false",
    "category", "other",
]


DateOrder = Literal["day_first", "month_first"]  # how 03/01/2024 is read: 3 Jan or 1 Mar


class ReadOptions(BaseModel):
    """How a file is read. `None` means "detect it"; the result's `detected` has no Nones."""

    delimiter: str | None = None
    quote: str | None = None
    header: bool | None = None
    encoding: str | None = None  # "utf-8", "utf-8-sig", "utf-16", "latin-1", "cp1252"
    decimal: str | None = None  # "." or ","
    thousands: str | None = None  # "", ",", ".", " ", "'"
    sheet: str | None = None  # Excel only
    skip_rows: int = 0
    skip_bad_rows: bool = False  # ragged rows: refuse (default) or skip them with a warning
    date_order: DateOrder | None = None  # how to read dates like 03/01/2024


class ColumnInfo(BaseModel):
    name: str  # as shown to users
    sql_name: str  # the Parquet column name; always quoted in SQL
    dtype: str  # friendly type name, see FriendlyType
    duckdb_type: str = ""


class IngestResult(BaseModel):
    parquet_path: Path
    rows: int
    columns: list[ColumnInfo]
    detected: ReadOptions
    warnings: list[str] = Field(default_factory=list)
    format: str = ""  # "csv", "excel", "parquet", "json", "sample", "recipe"


class ValueCount(BaseModel):
    value: str | float | int | bool | None
    count: int


class HistogramBin(BaseModel):
    start: float
    end: float
    count: int


class ColumnProfile(BaseModel):
    name: str
    sql_name: str
    dtype: str
    duckdb_type: str = ""
    count: int  # values present (non-missing)
    missing: int
    missing_pct: float = 0.0
    distinct: int
    distinct_is_approximate: bool = False
    min: float | str | None = None  # numbers as float; dates/times as ISO text
    max: float | str | None = None
    mean: float | None = None
    std: float | None = None  # sample standard deviation (ddof=1), like pandas
    q25: float | None = None
    q50: float | None = None
    q75: float | None = None
    skewness: float | None = None
    outliers: int | None = None  # values outside q25 - 1.5·IQR .. q75 + 1.5·IQR (numbers)
    padded: int | None = None  # text values with spaces at the start or end
    top_values: list[ValueCount] = Field(default_factory=list)
    histogram: list[HistogramBin] = Field(default_factory=list)

    @property
    def is_numeric(self) -> bool:
        return column_kinds.is_number(self.dtype)


class DatasetProfile(BaseModel):
    rows: int
    duplicate_rows: int
    bytes: int
    columns: list[ColumnProfile]


# --- cleaning steps (a recipe is a JSON list of these) ---------------------------------

class DropMissing(BaseModel):
    kind: Literal["drop_missing"] = "drop_missing"
    columns: list[str] | None = None  # None: a missing value in any column drops the row


class Impute(BaseModel):
    kind: Literal["impute"] = "impute"
    column: str
    method: Literal["mean", "median", "mode", "constant"] = "median"
    value: str | float | int | bool | None = None  # for method="constant"


class FlagMissing(BaseModel):
    kind: Literal["flag_missing"] = "flag_missing"
    column: str
    new_column: str | None = None  # default: "<column> is missing"


class DropDuplicates(BaseModel):
    kind: Literal["drop_duplicates"] = "drop_duplicates"
    columns: list[str] | None = None  # None: rows identical in every column


class Trim(BaseModel):
    kind: Literal["trim"] = "trim"
    columns: list[str]


class NormaliseCase(BaseModel):
    kind: Literal["normalise_case"] = "normalise_case"
    columns: list[str]
    case: Literal["lower", "upper", "title"] = "lower"


class MapCategories(BaseModel):
    kind: Literal["map_categories"] = "map_categories"
    column: str
    mapping: dict[str, str]


class ParseNumber(BaseModel):
    kind: Literal["parse_number"] = "parse_number"
    column: str
    decimal: Literal[".", ","] | None = None  # None: decided from the column's values


class StepEffect(BaseModel):
    """What one cleaning step would do to the data (see cleaning.preview_steps)."""

    step: int  # 1-based position in the recipe
    description: str
    changed: int = 0  # values that change
    unreadable: int = 0  # values with content that would become missing
    rows_removed: int = 0
    rows_before: int = 0  # rows the step starts from (set for steps that may remove rows)
    values_removed: int = 0  # values with content in the removed rows, every column
    what: str = "values"  # "numbers", "dates": what the unreadable values could not be read as


class StepExample(BaseModel):
    step: int
    column: str
    before: str | None
    after: str | None
    unreadable: bool = False


class StepPreview(BaseModel):
    effects: list[StepEffect] = Field(default_factory=list)
    examples: list[StepExample] = Field(default_factory=list)

    @property
    def changed(self) -> int:
        return sum(e.changed for e in self.effects)

    @property
    def unreadable(self) -> int:
        return sum(e.unreadable for e in self.effects)

    @property
    def rows_removed(self) -> int:
        return sum(e.rows_removed for e in self.effects)


class ParseDate(BaseModel):
    kind: Literal["parse_date"] = "parse_date"
    column: str
    format: str | None = None  # strftime format such as "%d/%m/%Y"; None tries common ones


class Cast(BaseModel):
    kind: Literal["cast"] = "cast"
    column: str
    to: Literal["number", "whole number", "text", "date", "date and time", "true/false"]


class DropColumns(BaseModel):
    kind: Literal["drop_columns"] = "drop_columns"
    columns: list[str]


class RenameColumn(BaseModel):
    kind: Literal["rename_column"] = "rename_column"
    column: str
    new_name: str


FilterOp = Literal[
    "=", "!=", "<", "<=", ">", ">=", "contains", "not_contains", "is_missing", "is_not_missing",
]


class FilterRows(BaseModel):
    """Keep the rows where the condition holds."""

    kind: Literal["filter_rows"] = "filter_rows"
    column: str
    op: FilterOp
    value: str | float | int | bool | None = None


class ConvertToCategory(BaseModel):
    kind: Literal["convert_to_category"] = "convert_to_category"
    column: str


Step = Annotated[
    DropMissing | Impute | FlagMissing | DropDuplicates | Trim | NormaliseCase | MapCategories
    | ParseNumber | ParseDate | Cast | DropColumns | RenameColumn | FilterRows
    | ConvertToCategory,
    Field(discriminator="kind"),
]


class Recipe(BaseModel):
    """A list of steps; `Recipe.model_validate_json(text)` reads a saved recipe."""

    steps: list[Step] = Field(default_factory=list)


Severity = Literal["high", "medium", "low"]


class Finding(BaseModel):
    kind: str
    column: str | None  # None: about the whole dataset
    severity: Severity
    message: str
    fix: Step | None = None
    affected_rows: int = 0
