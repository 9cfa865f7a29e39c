"""A board's downloads: the whole board as one HTML file, and each chart tile as a PNG.

Files are made only when a button is pressed (Streamlit calls the data function then), so
drawing the pictures never slows the board down."""

import streamlit as st

from components.explore_chart import file_stem
from components.text import escape_markdown
from services.access.users import UserView
from services.boards.models import BoardView
from services.boards.tiles import TileContent
from services.charts.chart_png import can_render_png
from services.reports import board_export


def _has_picture(content: TileContent) -> bool:
    return content.kind == "chart" and content.figure is not None and not content.problem


def png_button(content: TileContent, *, board_title: str, key: str) -> None:
    """"Download chart (PNG)" for one chart tile (nothing for other tiles)."""
    if not _has_picture(content):
        return
    if not can_render_png():
        st.caption("To save the chart as a picture, use the camera button above it.")
        return
    st.download_button(
        "Download chart (PNG)", data=lambda: board_export.tile_png(content),
        file_name=f"{file_stem(f'{board_title} {content.title}')}.png", mime="image/png",
        key=f"{key}_png_{content.tile_id}", icon=":material/image:", on_click="ignore",
        help="The chart as a picture on a white background, for slides and documents.")


def show(user: UserView, board: BoardView, contents: list[TileContent], *,
         key: str = "board_export", filters_sentence: str = "") -> None:
    """The board as an HTML file (every chart a picture with its summary as alt text, and
    each tile's data table), and the charts' pictures one by one. `contents` is what the
    page shows (with its filters); `filters_sentence` names them in the file."""

    def html_file() -> bytes:
        export = board_export.load_board_export(user, board, contents, filters_sentence)
        return board_export.build_board_html(export, board_export.board_pictures(contents))

    st.download_button(
        "Download the board (HTML)", data=html_file,
        file_name=f"{file_stem(board.title)}.html", mime="text/html", key=f"{key}_html",
        icon=":material/download:", on_click="ignore",
        help="One file that opens in any browser, even offline: each chart as a picture "
             "described in words, with the numbers behind it.")
    charts = [c for c in contents if _has_picture(c)]
    if not charts:
        return
    with st.popover("Pictures of the charts", icon=":material/image:"):
        for content in charts:
            st.caption(escape_markdown(content.title))
            png_button(content, board_title=board.title, key=key)
