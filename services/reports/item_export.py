"""Exports of a research item with chart pictures: figures drawn the way the item page draws
them (services.reports.insight_figure), PNGs (services.reports.pictures), then the pure
builders in services.reports. The item page's downloads and the API's export both call these,
so a script gets the same files, pictures included."""

from services.access.users import UserView
from services.charts.chart_figure import for_export
from services.reports import html_report, markdown_report, notebook
from services.reports.bundle import ItemExport, Picture, load_export, slug
from services.reports.insight_figure import draw
from services.reports.notebook_live import plan_live
from services.reports.pictures import render_pictures

PICTURE_BUDGET_S = 60.0


def file_stem(title: str) -> str:
    """The item page's download names (the API's are `slug(title)`)."""
    return slug(title, fallback="research-item", limit=80)


def pictures(export: ItemExport, *, budget_s: float = PICTURE_BUDGET_S) -> dict[int, Picture]:
    """A PNG and its alt text for each insight that has a chart (within the time budget)."""
    figures: dict[int, str] = {}
    alts: dict[int, str] = {}
    for card in export.insights:
        drawn = draw(card, export.rows.get(card.id))
        if drawn.figure is None:
            continue
        figures[card.id] = for_export(drawn.figure).to_json()
        alts[card.id] = drawn.summary or card.title
    pngs = render_pictures(figures, budget_s=budget_s)
    return {i: Picture(png=png, alt=alts[i]) for i, png in pngs.items()}


def html_bytes(actor: UserView, item_id: int, *, budget_s: float = PICTURE_BUDGET_S) -> bytes:
    export = load_export(actor, item_id)
    return html_report.build_html(export, pictures(export, budget_s=budget_s))


def markdown_bytes(actor: UserView, item_id: int, *,
                   budget_s: float = PICTURE_BUDGET_S) -> bytes:
    export = load_export(actor, item_id)
    return markdown_report.build_markdown_zip(export, pictures(export, budget_s=budget_s))


def notebook_bytes(actor: UserView, item_id: int) -> bytes:
    export = load_export(actor, item_id)
    return notebook.build_notebook_zip(export, plan_live(actor, export.insights))
