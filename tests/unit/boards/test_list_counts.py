"""The boards list says how many tiles each board has (the Boards page shows it)."""

from services.boards import boards
from services.boards.models import BoardInput, TileInput
from tests.factories import make_admin, make_user


def test_list_boards_counts_each_boards_tiles() -> None:
    ana = make_user(make_admin(), "ana")
    empty = boards.create_board(ana, BoardInput(title="Empty"))
    full = boards.create_board(ana, BoardInput(title="Full"))
    for text in ("One", "Two", "Three"):
        boards.add_tile(ana, full.id, TileInput(kind="note", note=text))
    counts = {b.id: b.tile_count for b in boards.list_boards(ana)}
    assert counts == {empty.id: 0, full.id: 3}
