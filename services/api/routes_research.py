"""/v1/research-items: the Research pages' work, for scripts and notebooks.

Calls services.research (items, insights) and services.reports (exports), which check who
may read or change an item on their first lines: a hidden item is a 404, like a missing one.
"""

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response
from fastapi import Path as PathParam

from services.api.auth import Caller
from services.api.downloads import content_disposition
from services.api.problems import COMMON_RESPONSES
from services.api.schemas import (
    DeletedOut,
    InsightOut,
    ItemDetailOut,
    ItemIn,
    ItemOut,
    ItemPatch,
    Page,
)
from services.reports import item_export
from services.reports.bundle import slug
from services.research import insights, items

router = APIRouter(prefix="/research-items", tags=["research items"],
                   responses=COMMON_RESPONSES)

ItemId = Annotated[int, PathParam(ge=1, le=2**31 - 1, description="The item's id.")]
Limit = Annotated[int, Query(ge=1, le=100, description="At most 100.")]
Offset = Annotated[int, Query(ge=0, le=2**31 - 1)]
SERVICE_PAGE = 100  # the service pages by 100 at most; an offset may straddle two pages

EXPORTS = {
    "html": ("text/html; charset=utf-8", "html"),
    "markdown": ("application/zip", "md.zip"),
    "notebook": ("application/zip", "ipynb.zip"),
}


@router.get("", summary="List research items I can read", response_model=Page[ItemOut])
def list_items(
    user: Caller,
    q: Annotated[str, Query(max_length=200, description="Searches titles, descriptions, "
                                                         "notes and tags.")] = "",
    status: Annotated[list[Literal["idea", "active", "done", "archived"]] | None,
                      Query(description="Any of these; all but archived if absent.")] = None,
    tag: Annotated[str | None, Query(max_length=40)] = None,
    owner: Annotated[str | None, Query(max_length=64)] = None,
    scope: Literal["all", "mine", "shared"] = "all",
    sort: Literal["updated", "created", "title"] = "updated",
    include_archived: bool = False,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[ItemOut]:
    """Filtered, searched and sorted in the database; `total` counts every match."""
    aligned = offset % limit == 0  # the usual case: one query for exactly this page
    size = limit if aligned else SERVICE_PAGE
    query = items.ItemQuery(text=q, statuses=list(status or []), tag=tag or None,
                            owner=owner or None, scope=scope, sort=sort,
                            include_archived=include_archived, page_size=size,
                            page=offset // size + 1)
    first = items.search_items(user, query)
    found = list(first.items)
    start = offset % size
    if offset >= first.total:
        found, start = [], 0
    elif start + limit > len(found) and first.page < first.pages:
        found += items.search_items(user, query.model_copy(update={"page": first.page + 1})).items
    page = found[start:start + limit]
    return Page[ItemOut](items=[ItemOut.model_validate(i.model_dump()) for i in page],
                         total=first.total, limit=limit, offset=offset)


@router.post("", summary="Create a research item", status_code=201,
             response_model=ItemDetailOut)
def create_item(user: Caller, body: ItemIn) -> ItemDetailOut:
    created = items.create_item(user, items.ItemInput(**body.model_dump()))
    return ItemDetailOut.model_validate(created.model_dump())


@router.get("/{item_id}", summary="One research item", response_model=ItemDetailOut)
def get_item(user: Caller, item_id: ItemId) -> ItemDetailOut:
    return ItemDetailOut.model_validate(items.get_item(user, item_id).model_dump())


@router.patch("/{item_id}", summary="Change a research item", response_model=ItemDetailOut)
def update_item(user: Caller, item_id: ItemId, body: ItemPatch) -> ItemDetailOut:
    """Only the fields given change. Its owner or an admin may."""
    changes = items.ItemChanges(**body.model_dump(exclude_unset=True))
    return ItemDetailOut.model_validate(items.update_item(user, item_id, changes).model_dump())


@router.delete("/{item_id}", summary="Delete a research item", response_model=DeletedOut)
def delete_item(user: Caller, item_id: ItemId) -> DeletedOut:
    """Deletes the item with its saved charts and answers and its notes' history."""
    gone = items.delete_item(user, item_id)
    return DeletedOut(title=gone.title, insights=gone.insights,
                      note_versions=gone.note_versions, detail=gone.sentence())


@router.get("/{item_id}/insights", summary="An item's saved charts and answers",
            response_model=Page[InsightOut])
def list_insights(user: Caller, item_id: ItemId, limit: Limit = 50,
                  offset: Offset = 0) -> Page[InsightOut]:
    """In the item's order, each with the rows it showed when it was saved."""
    total = insights.count_insights(user, item_id)
    cards = insights.list_insights(user, item_id, offset=offset, limit=limit)
    return Page[InsightOut](items=[InsightOut.model_validate(c.model_dump()) for c in cards],
                            total=total, limit=limit, offset=offset)


@router.get("/{item_id}/export", summary="Export an item (HTML, Markdown or notebook)",
            response_class=Response,
            responses={200: {"description": "The file.", "content": {
                "text/html": {"schema": {"type": "string"}},
                "application/zip": {"schema": {"type": "string", "format": "binary"}}}}})
def export_item(user: Caller, item_id: ItemId,
                format: Literal["html", "markdown", "notebook"] = "html",  # noqa: A002
                ) -> Response:
    """A self-contained HTML report, Markdown in a zip, or a Jupyter notebook (zip with the
    data) that reruns each query: the same files as the item page's downloads. Charts come
    with their pictures (PNG, with alt text) and their data tables."""
    title = items.get_item(user, item_id).title
    if format == "html":
        content = item_export.html_bytes(user, item_id)
    elif format == "markdown":
        content = item_export.markdown_bytes(user, item_id)
    else:
        content = item_export.notebook_bytes(user, item_id)
    media_type, suffix = EXPORTS[format]
    name = f"{slug(title)}.{suffix}"
    return Response(content, media_type=media_type,
                    headers={"Content-Disposition": content_disposition(name)})
