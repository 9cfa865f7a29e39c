"""A shared board's private data: which datasets colleagues cannot read, and sharing them in
one step by whoever may change them (issue 22: a person shares a board)."""

import pytest

from services.access import audit
from services.access.audit import AuditFilter
from services.access.permissions import Role
from services.boards import boards, sharing, tiles
from services.boards.models import BoardInput, TileInput
from services.data import datasets
from services.errors import NotFound, PermissionDenied
from tests.factories import make_admin, make_user

BAR = {"chart_type": "bar", "x": "day", "agg": "count"}
ANSWER = {"question": "How many?", "sql": "SELECT 1", "columns": ["n"], "rows": [[1]],
          "answered_at": "2026-12-03T10:00:00"}


def test_private_datasets_are_named_once_and_shared_in_one_step() -> None:
    admin = make_admin()
    ana = make_user(admin, "ana")
    vic = make_user(admin, "vic", Role.VIEWER)
    tips = datasets.create_from_sample(ana, "tips")
    iris = datasets.create_from_sample(ana, "iris")
    shared = datasets.create_from_sample(ana, "gapminder")
    datasets.set_shared(ana, shared.id, True)
    board = boards.create_board(ana, BoardInput(title="Team", visibility="shared"))
    specs = {tips.id: BAR, iris.id: {"chart_type": "bar", "x": "species", "agg": "count"},
             shared.id: {"chart_type": "bar", "x": "continent", "agg": "count"}}
    for dataset_id in (tips.id, iris.id, tips.id, shared.id):
        boards.add_tile(ana, board.id, TileInput(kind="chart", dataset_id=dataset_id,
                                                 spec=specs[dataset_id]))
    boards.add_tile(ana, board.id, TileInput(kind="note", note="Read me"))
    boards.add_tile(ana, board.id, TileInput(kind="table", spec=ANSWER))

    private = sharing.private_data(ana, boards.get_board(ana, board.id))
    assert [d.name for d in private.shareable] == [tips.name, iris.name]  # board order, once
    assert private.tiles == 3  # the note, the answer and the shared dataset's chart read fine
    # a colleague sees those three tiles as not shared, and is not told the datasets' names
    seen = tiles.board_contents(vic, boards.get_board(vic, board.id), [], [])
    assert sum(1 for t in seen if t.problem) == 3
    assert sharing.private_data(vic, boards.get_board(vic, board.id)).shareable == []

    done = sharing.share_its_data(ana, board.id)
    assert sorted(d.name for d in done) == sorted([tips.name, iris.name])
    assert all(d.is_shared for d in done)
    assert sharing.private_data(ana, boards.get_board(ana, board.id)).tiles == 0
    seen = tiles.board_contents(vic, boards.get_board(vic, board.id), [], [])
    assert [t.problem for t in seen] == [""] * 6
    shared_by_ana = audit.list_entries("admin", AuditFilter(actor="ana",
                                                            action="dataset_updated"))
    audited = {e.target for e in shared_by_ana if e.detail == "shared"}
    assert {f"{d.id}: {d.name}" for d in done} <= audited  # each one audited


def test_only_the_board_s_editors_can_share_its_data() -> None:
    admin = make_admin()
    ana = make_user(admin, "ana")
    bob = make_user(admin, "bob")
    vic = make_user(admin, "vic", Role.VIEWER)
    tips = datasets.create_from_sample(ana, "tips")
    board = boards.create_board(ana, BoardInput(title="Team", visibility="shared"))
    boards.add_tile(ana, board.id, TileInput(kind="chart", dataset_id=tips.id, spec=BAR))
    for other in (bob, vic):
        assert sharing.share_its_data(other, board.id) == []  # nothing they may share
    assert not datasets.get_dataset(ana, tips.id).is_shared
    with pytest.raises(NotFound):  # not even seen: it is ana's and private
        datasets.set_shared(bob, tips.id, True)
    with pytest.raises(PermissionDenied):
        datasets.set_shared(vic, tips.id, True)
