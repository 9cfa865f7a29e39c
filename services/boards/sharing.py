"""A shared board and the data behind it. A board's tiles read their datasets with the
reader's own rights, so a colleague sees a tile on a private dataset as "not shared with
you". Whoever shares a board is told which of its datasets are private, and may share those
they are allowed to change in one step (the dataset's own rule: its owner or an admin)."""

from pydantic import BaseModel

from services.access import dataset_access
from services.access.users import UserView
from services.boards import boards
from services.boards.models import BoardView, TileView
from services.data import datasets
from services.data.datasets import DatasetView


class PrivateData(BaseModel):
    """The private datasets behind a board's tiles, in board order, each once: those the
    person may share (`shareable`) and how many tiles colleagues cannot read (`tiles`)."""

    shareable: list[DatasetView]
    tiles: int


def _reads_its_dataset(tile: TileView) -> bool:
    """Charts, numbers and a dataset's first rows read it for each reader; an Ask answer
    keeps the rows it was saved with, and a note has no data."""
    reads = tile.kind in ("chart", "number") or (tile.kind == "table" and tile.spec is None)
    return reads and tile.dataset_id is not None


def private_data(actor: UserView, board: BoardView) -> PrivateData:
    """Nothing for a person who cannot change the board (the names of datasets are the
    editors' business) or for a dataset the person cannot see (its tile says so already).
    One metadata query, however many tiles."""
    if not board.can_edit:
        return PrivateData(shareable=[], tiles=0)
    private = {d.id: d for d in datasets.list_datasets(actor) if not d.is_shared}
    on_private = [int(t.dataset_id or 0) for t in board.tiles
                  if _reads_its_dataset(t) and t.dataset_id in private]
    shareable = [private[i] for i in dict.fromkeys(on_private)  # board order, each once
                 if dataset_access.can_change(actor, private[i])]
    return PrivateData(shareable=shareable, tiles=len(on_private))


def share_its_data(actor: UserView, board_id: int) -> list[DatasetView]:
    """Share every private dataset of the board that the person may change; returns them.
    Each is one `datasets.set_shared` (roles checked and audited there)."""
    board = boards.get_board(actor, board_id)
    return [datasets.set_shared(actor, dataset.id, True)
            for dataset in private_data(actor, board).shareable]
