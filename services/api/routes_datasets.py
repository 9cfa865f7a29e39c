"""/v1/datasets: the Datasets and Dataset pages' work, for scripts.

Each endpoint calls the same service functions as the pages; the services check the role
and who may see or change what. DuckDB work runs in the thread pool, off the event loop.
"""

import json
import shutil
import tempfile
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Annotated, Any, Literal

import pandas as pd
from fastapi import APIRouter, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from services.access.permissions import require
from services.access.users import UserView
from services.api import upload_stream
from services.api.auth import Caller
from services.api.problems import COMMON_RESPONSES, SOURCE_RESPONSES, UPLOAD_RESPONSES
from services.api.schemas import (
    MAX_LIMIT,
    ChartDataIn,
    ChartDataOut,
    CleaningIn,
    DatasetOut,
    FindingsOut,
    Page,
    UploadOut,
    VersionOut,
)
from services.charts import where
from services.data import (
    dataset_files,
    datasets,
    live_datasets,
    live_profile,
    profile,
    quality,
    uploads,
)
from services.data.dataset_models import DatasetProfile
from services.data.datasets import VersionView
from services.errors import InvalidInput
from services.settings import get_settings

router = APIRouter(prefix="/datasets", tags=["datasets"], responses=COMMON_RESPONSES)

DatasetId = Annotated[int, PathParam(ge=1, le=2**31 - 1, description="The dataset's id.")]
VersionNo = Annotated[int, PathParam(ge=1, le=2**31 - 1, description="A version number.")]
OptionalVersion = Annotated[int | None, Query(ge=1, le=2**31 - 1,
                                              description="A version; the current one if absent.")]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"At most {MAX_LIMIT}.")]
Offset = Annotated[int, Query(ge=0, le=2**31 - 1)]

UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {"multipart/form-data": {"schema": {
            "type": "object", "required": ["file"],
            "properties": {
                "file": {"type": "string", "format": "binary",
                         "description": "CSV, TSV, TXT, Excel (.xlsx), Parquet, JSON or NDJSON."},
                "name": {"type": "string", "maxLength": 200,
                         "description": "The dataset's name; the file name if absent."},
            }}}},
    }
}

_KEEP = 32
_cache_lock = threading.Lock()
_profiles: OrderedDict[str, DatasetProfile] = OrderedDict()


def version_profile(path: Path) -> DatasetProfile:
    """A version's profile, kept for a few versions (version files never change)."""
    key = str(path)
    with _cache_lock:
        if key in _profiles:
            _profiles.move_to_end(key)
            return _profiles[key]
    result = profile.profile_dataset(path)
    with _cache_lock:
        _profiles[key] = result
        while len(_profiles) > _KEEP:
            _profiles.popitem(last=False)
    return result


def _file_version(user: UserView, dataset_id: int, version: int | None) -> VersionView:
    """A version's file; a live dataset has none, and says so in words."""
    dataset = datasets.get_dataset(user, dataset_id)
    if dataset.live is not None:
        raise InvalidInput(f"“{dataset.name}” is a live dataset ({dataset.live.label}): its "
                           "rows stay in their database, so it has no versions to download or "
                           "clean; take a snapshot on its Datasets page to do that.")
    return datasets.get_version(user, dataset_id, version)


def _live_target(user: UserView, dataset_id: int, version: int | None,
                 ) -> live_datasets.LiveTarget | None:
    """A live dataset's table (None for a dataset of files); it has no versions to name."""
    target = live_datasets.live_target(user, dataset_id)
    if target is not None and version is not None:
        raise InvalidInput("A live dataset has no versions; leave out “version” to read its "
                           "table as it is now.")
    return target


def _place(user: UserView, dataset_id: int, version: int | None) -> where.Place:
    """Where a chart's rows are: a version's file, or a live dataset's table."""
    target = _live_target(user, dataset_id, version)
    if target is None:
        return Path(datasets.get_version(user, dataset_id, version).parquet_path)
    return target


def _version_out(version: VersionView) -> VersionOut:
    return VersionOut.model_validate(version.model_dump(exclude={"parquet_path", "recipe_sql"}))


def _rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """A frame as JSON-safe records: NaN as null, times as ISO text."""
    return json.loads(frame.to_json(orient="records", date_format="iso", default_handler=str))


@router.get("", summary="List datasets I can see", response_model=Page[DatasetOut])
def list_datasets(user: Caller, limit: Limit = 50, offset: Offset = 0,
                  mine_only: bool = False) -> Page[DatasetOut]:
    """My datasets and every shared one, most recently changed first. A live dataset (a
    table of a data source, read where it lives) says where in `live`, and has no versions,
    sizes or row counts (null)."""
    every = datasets.list_datasets(user, mine_only=mine_only)
    page = every[offset:offset + limit]
    return Page[DatasetOut](items=[DatasetOut.of(d) for d in page],
                            total=len(every), limit=limit, offset=offset)


@router.post("", summary="Upload a file as a new dataset", status_code=201,
             response_model=UploadOut, responses=UPLOAD_RESPONSES, openapi_extra=UPLOAD_BODY)
async def upload_dataset(user: Caller, request: Request) -> UploadOut:
    """Read an uploaded file into a new private dataset, as the Datasets page does.

    The file is streamed to disk (never held in memory) and refused with 413 as soon as it
    is known to be over the upload limit; a refused upload leaves nothing behind."""
    require(user.role, "upload_data")  # refused before a single byte is read
    received = await upload_stream.receive_upload(request)
    try:
        assert received.path is not None
        name = received.fields.get("name") or None
        view, result = await run_in_threadpool(
            datasets.create_from_upload, user, received.path,
            original_name=received.original_name, name=name)
    finally:
        uploads.discard_upload(received.path) if received.path else received.discard()
    return UploadOut(dataset=DatasetOut.of(view),
                     warnings=list(result.warnings))


@router.get("/{dataset_id}", summary="One dataset", response_model=DatasetOut)
def get_dataset(user: Caller, dataset_id: DatasetId) -> DatasetOut:
    """A live dataset has `live` (where it is read) and no versions, sizes or row counts."""
    return DatasetOut.of(datasets.get_dataset(user, dataset_id))


@router.get("/{dataset_id}/versions", summary="A dataset's versions, newest first",
            response_model=list[VersionOut])
def list_versions(user: Caller, dataset_id: DatasetId) -> list[VersionOut]:
    return [_version_out(v) for v in datasets.list_versions(user, dataset_id)]


@router.get("/{dataset_id}/versions/{version}/download",
            summary="Download a version as CSV or Parquet",
            response_class=FileResponse,
            responses={200: {"description": "The file, streamed.", "content": {
                "text/csv": {"schema": {"type": "string"}},
                "application/vnd.apache.parquet": {"schema": {"type": "string",
                                                              "format": "binary"}}}}})
def download_version(user: Caller, dataset_id: DatasetId, version: VersionNo,
                     format: Literal["csv", "parquet"] = "csv") -> FileResponse:  # noqa: A002
    """CSV has the column names people see and is safe to open in a spreadsheet (text
    starting with = + - @ gets an apostrophe); Parquet is the stored file as it is."""
    dataset = datasets.get_dataset(user, dataset_id)
    stored = _file_version(user, dataset_id, version)
    stem = uploads.safe_file_name(f"{dataset.name}-v{stored.version}")
    if format == "parquet":
        return FileResponse(stored.parquet_path, media_type="application/vnd.apache.parquet",
                            filename=f"{stem}.parquet")
    scratch = get_settings().data_dir / "tmp"
    scratch.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(dir=scratch))
    target = folder / "export.csv"
    try:
        dataset_files.write_csv(Path(stored.parquet_path), target)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return FileResponse(target, media_type="text/csv; charset=utf-8", filename=f"{stem}.csv",
                        background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True))


@router.get("/{dataset_id}/profile", summary="Column summaries of a version",
            response_model=DatasetProfile)
def get_profile(user: Caller, dataset_id: DatasetId,
                version: OptionalVersion = None) -> DatasetProfile:
    """Rows, duplicates and, per column, missing values, distinct values, range, mean,
    quartiles, top values and a histogram: what the Dataset page shows."""
    target = _live_target(user, dataset_id, version)
    if target is not None:  # computed in its database (live_profile), a sample where needed
        return live_profile.profile_table(target).profile
    stored = _file_version(user, dataset_id, version)
    return version_profile(Path(stored.parquet_path))


@router.get("/{dataset_id}/quality", summary="Quality findings of a version",
            response_model=FindingsOut)
def get_quality(user: Caller, dataset_id: DatasetId,
                version: OptionalVersion = None) -> FindingsOut:
    """Missing values, duplicates, outliers, numbers stored as text…, most severe first,
    each with the cleaning step that would fix it (if any)."""
    target = _live_target(user, dataset_id, version)
    if target is not None:
        found = live_profile.find_issues(live_profile.profile_table(target))
        return FindingsOut(dataset_id=dataset_id, version=None,
                           findings=[f.model_dump(mode="json") for f in found])
    stored = _file_version(user, dataset_id, version)
    path = Path(stored.parquet_path)
    findings = quality.find_issues(path, version_profile(path))
    return FindingsOut(dataset_id=dataset_id, version=stored.version,
                       findings=[f.model_dump(mode="json") for f in findings])


@router.post("/{dataset_id}/cleaning", summary="Apply a cleaning recipe", status_code=201,
             response_model=VersionOut)
def apply_cleaning(user: Caller, dataset_id: DatasetId, recipe: CleaningIn) -> VersionOut:
    """Run the steps on a version (the current one if `base_version` is absent); the
    result becomes the dataset's new current version. Only its owner or an admin may."""
    _file_version(user, dataset_id, recipe.base_version)  # a live dataset cannot be cleaned
    created = datasets.apply_steps(user, dataset_id, list(recipe.steps),
                                   base_version=recipe.base_version)
    return _version_out(created)


@router.post("/{dataset_id}/chart-data", summary="The aggregated rows behind a chart",
             response_model=ChartDataOut, responses=SOURCE_RESPONSES)
def chart_data(user: Caller, dataset_id: DatasetId, body: ChartDataIn) -> ChartDataOut:
    """A ChartSpec in (as Explore builds it), the rows Explore would draw out.

    For a live dataset the grouping, filters and mark limit run in its database (no rows
    beyond the chart's come back); leave out `version`. A database that cannot be reached
    gives 503 with one sentence."""
    data = where.chart_at(_place(user, dataset_id, body.version), body.spec)
    frame = data.display_frame()  # the column names people see, as in Explore's table
    return ChartDataOut(columns=[str(c) for c in frame.columns], labels=data.labels,
                        rows=_rows(frame), mark_count=data.mark_count,
                        rows_in=data.rows_in, is_sampled=data.is_sampled,
                        is_binned=data.is_binned, note=data.note)
