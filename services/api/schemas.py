"""What the API takes and gives: pydantic models, with examples for the OpenAPI document.

Request models refuse unknown fields (422), so a typo never silently does something else.
Responses never carry server paths, password hashes or token secrets.
"""

from datetime import UTC, datetime
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from services.charts.spec import ChartSpec
from services.data.dataset_models import Step
from services.data.datasets import DatasetView
from services.sources.catalog import SourceView

T = TypeVar("T")


def _as_utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


# The store keeps UTC without a zone; the API says so (RFC 3339: "…+00:00").
UtcDateTime = Annotated[datetime, AfterValidator(_as_utc)]
MAX_LIMIT = 1000
STRICT = ConfigDict(extra="forbid")


PartStatus = Literal["ok", "warning", "down", "not_configured"]


class Health(BaseModel):
    """Anyone may read it: whether Research Desk can work, and each part's status."""

    status: Literal["ok", "unavailable"] = Field(
        examples=["ok"], description="`unavailable` (with 503) while the metadata store or "
                                     "the data folder cannot be used.")
    api_version: str = Field(examples=["1"])
    parts: dict[str, PartStatus] = Field(examples=[{
        "store": "ok", "data_folder": "ok", "runner": "ok", "queue": "not_configured"}])


class HealthPartOut(BaseModel):
    status: PartStatus = Field(examples=["ok"])
    sentence: str = Field(examples=["The data folder is writable, with 52,310 MB free."])
    free_mb: int | None = Field(default=None, examples=[52310],
                                description="The data folder's free disk space.")


class HealthDetails(BaseModel):
    """For admins: each part in a sentence, and the data folder's free space."""

    status: Literal["ok", "unavailable"] = Field(examples=["ok"])
    parts: dict[str, HealthPartOut]


class Page(BaseModel, Generic[T]):
    """One page of a list: `total` counts every match, `items` the ones on this page."""

    items: list[T]
    total: int = Field(examples=[42])
    limit: int = Field(examples=[50])
    offset: int = Field(examples=[0])


class LiveOut(BaseModel):
    """Where a live dataset's rows are: a table or view of a data source, read on each use."""

    source_id: int = Field(examples=[3])
    source_name: str = Field(examples=["warehouse"])
    schema_name: str = Field(examples=["public"])
    table_name: str = Field(examples=["orders"])
    read_at: UtcDateTime | None = Field(
        default=None, description="When a chart last read it (to the minute); null if never.")


_LIVE_NULL = " Null for a live dataset (its rows stay in their database)."


class DatasetOut(BaseModel):
    id: int = Field(examples=[17])
    name: str = Field(examples=["Penguins"])
    description: str = Field(examples=["Palmer penguins, 2007–2009."])
    owner: str = Field(examples=["ada"])
    visibility: Literal["private", "shared"] = "private"
    current_version: int | None = Field(examples=[2], description="The version read when none "
                                        "is named." + _LIVE_NULL)
    versions: int | None = Field(examples=[2], description="How many versions it has." +
                                 _LIVE_NULL)
    rows: int | None = Field(examples=[344], description="Rows of the current version." +
                             _LIVE_NULL)
    columns: int | None = Field(examples=[8], description="Columns of the current version." +
                                _LIVE_NULL)
    bytes: int | None = Field(examples=[12_345], description="Size of the current version's "
                              "file." + _LIVE_NULL)
    created_at: UtcDateTime
    updated_at: UtcDateTime
    live: LiveOut | None = Field(default=None, description="Where a live dataset's rows are; "
                                 "null for a dataset of uploaded files.")

    @classmethod
    def of(cls, dataset: DatasetView) -> "DatasetOut":
        """A dataset as the API shows it: a live one has no versions, sizes or row counts
        (they would be zeros that read as an empty file), and says where it lives."""
        out = cls.model_validate(dataset.model_dump())
        if dataset.live is None:
            return out
        return out.model_copy(update={"current_version": None, "versions": None,
                                      "rows": None, "columns": None, "bytes": None})


class SourceOut(BaseModel):
    """A data source as admins see it: never its password."""

    id: int = Field(examples=[3])
    name: str = Field(examples=["warehouse"])
    where: str = Field(examples=["sales on db.internal:5432 as research_reader"],
                       description="The database, on host:port, as which database user.")
    schemas: list[str] = Field(examples=[["public"]],
                               description="The schemas its tables may be read from.")
    origin: str = Field(
        examples=["admin"], description="`admin`: added on the Admin page or with the command "
                                        "line; `secrets`: defined in the secrets file.")
    created_at: UtcDateTime
    updated_at: UtcDateTime

    @classmethod
    def of(cls, source: SourceView) -> "SourceOut":
        return cls(id=source.id, name=source.name, where=source.where,
                   schemas=list(source.schemas), origin=source.origin,
                   created_at=source.created_at, updated_at=source.updated_at)


class UploadOut(BaseModel):
    dataset: DatasetOut
    warnings: list[str] = Field(default_factory=list,
                                examples=[["2 rows had more values than the header; the "
                                           "extra values were kept in a column."]])


class VersionOut(BaseModel):
    dataset_id: int = Field(examples=[17])
    version: int = Field(examples=[2])
    rows: int = Field(examples=[340])
    columns: int = Field(examples=[8])
    bytes: int = Field(examples=[12_001])
    source: str = Field(examples=["cleaned from version 1"])
    recipe: list[dict[str, Any]] | None = None
    note: str = Field(examples=["Dropped rows with a missing value in body_mass_g."])
    created_by: str = Field(examples=["ada"])
    created_at: UtcDateTime


class FindingsOut(BaseModel):
    dataset_id: int
    version: int | None = Field(description="The version checked; null for a live dataset "
                                            "(checked where it lives)")
    findings: list[dict[str, Any]] = Field(
        examples=[[{"kind": "missing", "column": "sex", "severity": "medium",
                    "message": "11 values (3.2%) are missing in “sex”.",
                    "fix": {"kind": "drop_missing", "columns": ["sex"]},
                    "affected_rows": 11}]])


class CleaningIn(BaseModel):
    """A cleaning recipe, applied to a version; the result becomes the current version."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"steps": [{"kind": "drop_missing", "columns": ["sex"]}], "base_version": 1}]})

    steps: list[Step] = Field(min_length=1, max_length=100)
    base_version: int | None = Field(default=None, ge=1, le=2**31 - 1)


class ChartDataIn(BaseModel):
    """A ChartSpec (as Explore builds it) and, optionally, which version to chart."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"spec": {"chart_type": "bar", "x": "species", "agg": "count"}}]})

    spec: ChartSpec
    version: int | None = Field(default=None, ge=1, le=2**31 - 1)


class ChartDataOut(BaseModel):
    columns: list[str] = Field(examples=[["species", "Sum of body mass"]])
    labels: dict[str, str] = Field(description="Internal name → the column name shown.",
                                   examples=[{"x": "species", "value": "Sum of body mass"}])
    rows: list[dict[str, Any]] = Field(examples=[[{"species": "Adelie",
                                                   "Sum of body mass": 558_800}]])
    mark_count: int = Field(examples=[3])
    rows_in: int = Field(examples=[344])
    is_sampled: bool = False
    is_binned: bool = False
    note: str = ""


class AskIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"question": "Which species is heaviest on average?", "dataset_ids": [17]}]})

    question: str = Field(min_length=1, max_length=2000)
    dataset_ids: list[int] = Field(min_length=1, max_length=5)
    stream: bool = Field(default=False, description="Send server-sent events as the answer "
                                                    "arrives (event: result, answer, done).")


class AskOut(BaseModel):
    question: str
    status: Literal["answered", "could_not_answer", "unavailable"] = Field(
        examples=["answered"])
    answer: str = Field(examples=["Gentoo penguins are the heaviest, 5,076 g on average."])
    sql: str | None = Field(default=None, examples=[
        "SELECT species, avg(body_mass_g) AS mean_mass FROM penguins GROUP BY species"])
    columns: list[str] = Field(default_factory=list)
    rows: list[dict[str, Any]] = Field(default_factory=list)
    total_rows: int = 0
    truncated: bool = False
    rows_counted: bool = Field(default=True, description="False when total_rows is where "
                               "reading stopped (a live database's answer past the row "
                               "limit): the answer has more rows than that.")
    chart: dict[str, Any] | None = None
    error: str | None = Field(default=None, description="What went wrong, when not answered.")
    unchecked_numbers: list[str] = Field(
        default_factory=list, examples=[["5,130"]],
        description="Numbers in the answer that appear nowhere in the rows Claude was given "
                    "(not even rounded or as a simple share or difference): check them.")
    number_check: str = Field(default="", examples=[
        "This number does not appear in the result; check it against the table."],
        description="One sentence when a number is unchecked, else empty.")


Status = Literal["idea", "active", "done", "archived"]
Visibility = Literal["private", "shared"]


class ItemOut(BaseModel):
    id: int = Field(examples=[7])
    title: str = Field(examples=["Why did returns rise in March?"])
    description: str = ""
    status: str = Field(examples=["active"])
    tags: list[str] = Field(examples=[["returns", "q1"]])
    owner: str = Field(examples=["ada"])
    visibility: str = Field(examples=["shared"])
    created_at: UtcDateTime
    updated_at: UtcDateTime
    insight_count: int = 0


class ItemDetailOut(ItemOut):
    notes: str = ""
    notes_version: int = 0
    notes_updated_by: str | None = None
    notes_updated_at: UtcDateTime | None = None
    can_edit: bool = False


class ItemIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"title": "Why did returns rise in March?", "tags": ["returns"], "status": "idea"}]})

    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=2000)
    status: Status = "idea"
    tags: list[str] = Field(default_factory=list, max_length=20)
    visibility: Visibility = "private"


class ItemPatch(BaseModel):
    """Only the fields given change."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"status": "done", "visibility": "shared"}]})

    title: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=2000)
    status: Status | None = None
    tags: list[str] | None = Field(default=None, max_length=20)
    visibility: Visibility | None = None


class DeletedOut(BaseModel):
    title: str
    insights: int
    note_versions: int
    detail: str = Field(examples=["Deleting “Returns” also deletes its 2 saved charts or "
                                  "answers and 3 saved versions of its notes. This cannot "
                                  "be undone."])


class InsightOut(BaseModel):
    id: int
    item_id: int
    kind: str = Field(examples=["chart"])
    title: str
    summary: str
    spec: dict[str, Any]
    data_snapshot: list[Any] = Field(description="The rows it showed when it was saved.")
    dataset_id: int | None
    dataset_version: int | None
    dataset_name: str | None = None
    is_data_gone: bool = False
    position: int
    created_by: str
    created_at: UtcDateTime
