"""A board as one HTML file: every tile's alt text and data table, numbers as large text, no
script, names and Claude's words escaped; the same from a real board's computed tiles."""

import base64
import html
import re
from datetime import UTC, datetime

import pandas as pd
import pytest

from services.boards import boards, tiles
from services.boards.adding import answer_tile
from services.boards.models import BoardInput, BoardView, TileInput, TileView
from services.boards.tiles import TileContent
from services.charts.chart_png import PNG_MAGIC
from services.data import datasets
from services.errors import InvalidInput
from services.reports.board_export import (
    BoardExport,
    board_pictures,
    build_board_html,
    figure_json,
    load_board_export,
    tile_png,
)
from tests.factories import make_admin, make_user

WHEN = datetime(2026, 12, 3, 9, 30, tzinfo=UTC)
HOSTILE = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'
PNG = PNG_MAGIC + b"picture"


def _board(tile_specs: list[tuple[int, str, dict | None]]) -> BoardView:
    return BoardView(
        id=1, title=f"Sales {HOSTILE}", description=f"Weekly {HOSTILE}", owner="ana",
        visibility="shared", columns=2, created_at=WHEN, updated_at=WHEN,
        tiles=[TileView(id=i, board_id=1, position=n, width=1, kind=k, dataset_id=None,
                        dataset_version=None, spec=s, note="")
               for n, (i, k, s) in enumerate(tile_specs)])


def _contents() -> list[TileContent]:
    figure = {"data": [{"type": "bar", "x": ["a", "b"], "y": [1, 2]}], "layout": {}}
    return [
        TileContent(tile_id=1, kind="chart", title="Orders by day",
                    summary=f"Saturday has most orders (87). {HOSTILE}", figure=figure,
                    table_columns=["day", "orders"], table_rows=[["Sat", 87], [HOSTILE, 76]],
                    version_sentence="Updated to version 4 on 3 Dec.",
                    filters_sentence="Every filter on the board applies to this tile."),
        TileContent(tile_id=2, kind="number", title="Orders", summary="12,340 orders.",
                    number_text="12,340 orders", change_text="+8 % on the previous month",
                    table_columns=["month", "orders"], table_rows=[["Nov", 12340]]),
        TileContent(tile_id=3, kind="table", title=HOSTILE, summary="The answer: 1 row.",
                    table_columns=["who"], table_rows=[["<b>Ada</b>"]],
                    version_sentence="Answered on 3 Dec."),
        TileContent(tile_id=4, kind="note", title="Note", summary="Read me",
                    note_html=f"## Read me\n\n{HOSTILE} [click](javascript:alert(3))"),
        TileContent(tile_id=5, kind="chart", title="A chart", summary="Gone.",
                    problem="The dataset this tile shows was deleted."),
        TileContent(tile_id=6, kind="chart", title="Tips by sex", summary="Men tip more.",
                    figure=figure, table_columns=["sex"], table_rows=[["Male"]]),
    ]


def test_every_tile_has_its_alt_text_and_table_and_nothing_runs() -> None:
    board = _board([(1, "chart", None), (2, "number", None),
                    (3, "table", {"question": f"Who? {HOSTILE}", "sql": "SELECT '<x>'"}),
                    (4, "note", None), (5, "chart", None), (6, "chart", None)])
    export = BoardExport(board=board, contents=_contents(), exported_by="ana",
                         exported_at=WHEN, filters_sentence="Filtered: day is Sat.")
    page = build_board_html(export, {1: PNG}).decode("utf-8")
    assert "<script" not in page.lower() and "<a " not in page  # as text only
    assert re.findall(r"<img [^>]*", page) == [re.findall(r'<img src="data:image/png[^>]*',
                                                         page)[0]]  # only the picture
    alt = html.escape(f"Saturday has most orders (87). {HOSTILE}", quote=True)
    assert f'src="data:image/png;base64,{base64.b64encode(PNG).decode()}" alt="{alt}"' in page
    assert "The picture of this chart is not included" in page and "Men tip more." in page
    for title in ("Orders by day", "Orders", "Tips by sex"):
        assert f"<caption>Data behind “{title}”" in page
    assert "<td>&lt;b&gt;Ada&lt;/b&gt;</td>" in page and "<td>87</td>" in page
    assert '<p class="number">12,340 orders</p>' in page
    assert "+8 % on the previous month" in page
    assert "Updated to version 4 on 3 Dec." in page and "Answered on 3 Dec." in page
    assert "Every filter on the board applies to this tile." in page
    assert "Filtered: day is Sat." in page
    assert "The dataset this tile shows was deleted." in page
    assert "<h5>Read me</h5>" in page  # note headings sit under the tile heading (h3)
    assert "<strong>Question:</strong> Who? &lt;script&gt;" in page
    assert "SELECT &#x27;&lt;x&gt;&#x27;" in page
    assert "<title>Sales &lt;script&gt;" in page and "Weekly &lt;script&gt;" in page
    assert page.count('<section class="tile"') == 6


def test_a_real_board_exports_its_computed_tiles() -> None:
    ana = make_user(make_admin(), "ana")
    tips = datasets.create_from_sample(ana, "tips")
    board = boards.create_board(ana, BoardInput(title="Tips"))
    boards.add_tile(ana, board.id, TileInput(
        kind="chart", dataset_id=tips.id, spec={"chart_type": "bar", "x": "day"}))
    answer = pd.DataFrame({"day": ["Sat", "Sun"], "tips": [87, 76]})
    boards.add_tile(ana, board.id, answer_tile(ana, "Tips by day?", "SELECT day", answer,
                                               WHEN, tips.id))
    boards.add_tile(ana, board.id, TileInput(kind="note", note="**Looks good**"))
    view = boards.get_board(ana, board.id)
    contents = tiles.board_contents(ana, view, [], [])
    assert figure_json(contents[0]) is not None and figure_json(contents[1]) is None
    pictures = board_pictures(contents, budget_s=120)
    assert list(pictures) == [contents[0].tile_id]  # the chart tile only
    assert pictures[contents[0].tile_id].startswith(PNG_MAGIC)
    with pytest.raises(InvalidInput, match="Only a chart tile"):
        tile_png(contents[1])
    page = build_board_html(load_board_export(ana, view, contents), pictures).decode("utf-8")
    alt = html.escape(contents[0].summary, quote=True)
    assert contents[0].summary and f'alt="{alt}"' in page and "data:image/png;base64," in page
    assert "<caption>Data behind “Tips by day?”" in page and "<td>Sun</td>" in page
    assert "<strong>Looks good</strong>" in page
    assert "<script" not in page
