"""/v1/boards: list, read and a tile's data, with roles and 404s in one sentence."""

from datetime import datetime
from pathlib import Path

from services.boards import boards
from services.boards.models import BoardInput, TileInput
from services.data import datasets
from tests.unit.api.conftest import Api, People, problem_of, upload_csv

HIDDEN = "That board does not exist or is not shared with you."


def _boards(people: People, tmp_path: Path) -> tuple[int, int, int, int]:
    """bob's shared board (a chart and a number on his shared dataset, a note) and his
    private one."""
    dataset = upload_csv(people.analyst, tmp_path)
    datasets.set_shared(people.analyst, dataset, True)
    shared = boards.create_board(people.analyst, BoardInput(title="Team", visibility="shared"))
    chart = boards.add_tile(people.analyst, shared.id, TileInput(
        kind="chart", dataset_id=dataset, spec={"chart_type": "bar", "x": "species"}))
    boards.add_tile(people.analyst, shared.id, TileInput(
        kind="number", dataset_id=dataset, spec={"aggregate": "sum", "column": "mass",
                                                 "label": "grams"}))
    boards.add_tile(people.analyst, shared.id, TileInput(kind="note", note="**Hi** <b>x</b>"))
    private = boards.create_board(people.analyst, BoardInput(title="Mine"))
    return shared.id, private.id, chart.id, dataset


def test_list_and_read_boards_by_role(api: Api, people: People, tmp_path: Path) -> None:
    shared, private, chart, dataset = _boards(people, tmp_path)
    mine = api.get("/v1/boards", token=people.token(people.analyst)).json()
    assert mine["total"] == 2 and {b["id"] for b in mine["items"]} == {shared, private}
    for person in (people.viewer, people.other, people.admin):
        listed = api.get("/v1/boards", token=people.token(person)).json()
        assert [b["id"] for b in listed["items"]] == [shared]
        assert problem_of(api.get(f"/v1/boards/{private}", token=people.token(person)),
                          404) == HIDDEN
    page = api.get("/v1/boards?limit=1&offset=1", token=people.token(people.analyst)).json()
    assert page["total"] == 2 and len(page["items"]) == 1

    board = api.get(f"/v1/boards/{shared}", token=people.token(people.viewer)).json()
    assert board["title"] == "Team" and board["can_edit"] is False
    assert [t["kind"] for t in board["tiles"]] == ["chart", "number", "note"]
    assert board["tiles"][0]["id"] == chart and board["tiles"][0]["dataset_id"] == dataset
    assert board["tiles"][0]["spec"]["x"] == "species"
    assert datetime.fromisoformat(board["updated_at"]).tzinfo is not None
    problem_of(api.get("/v1/boards"), 401)


def test_tile_data_without_the_figure(api: Api, people: People, tmp_path: Path) -> None:
    shared, _, chart, _ = _boards(people, tmp_path)
    token = people.token(people.viewer)
    tile_ids = [t["id"] for t in api.get(f"/v1/boards/{shared}", token=token).json()["tiles"]]
    data = api.get(f"/v1/boards/{shared}/tiles/{chart}/data", token=token).json()
    assert "figure" not in data and data["problem"] == ""
    assert data["kind"] == "chart" and data["summary"]
    assert data["table_columns"][0] == "species"
    value = data["table_columns"].index("Count of rows")
    assert {r[0]: r[value] for r in data["table_rows"]} == {"Adelie": 2, "Gentoo": 1}
    assert data["version_sentence"].startswith("Updated to version 1 on ")
    number = api.get(f"/v1/boards/{shared}/tiles/{tile_ids[1]}/data", token=token).json()
    assert number["number_text"] == "12,550 grams" and number["title"] == "Grams"
    note = api.get(f"/v1/boards/{shared}/tiles/{tile_ids[2]}/data", token=token).json()
    assert note["note"].startswith("**Hi**") and "<b>" not in note["note"]


def test_bad_or_hidden_ids_are_404_in_one_sentence(api: Api, people: People,
                                                   tmp_path: Path) -> None:
    shared, private, chart, _ = _boards(people, tmp_path)
    token = people.token(people.other)
    assert problem_of(api.get("/v1/boards/999999", token=token), 404) == HIDDEN
    assert problem_of(api.get(f"/v1/boards/{private}/tiles/{chart}/data", token=token),
                      404) == HIDDEN
    assert problem_of(api.get(f"/v1/boards/{shared}/tiles/999999/data", token=token),
                      404) == "That tile is not on this board."
    other = boards.create_board(people.other, BoardInput(title="Eve's", visibility="shared"))
    assert problem_of(api.get(f"/v1/boards/{other.id}/tiles/{chart}/data", token=token),
                      404) == "That tile is not on this board."
    assert api.get("/v1/boards/0", token=token).status_code == 422


def test_a_tile_on_a_dataset_the_reader_cannot_see_says_so(api: Api, people: People,
                                                           tmp_path: Path) -> None:
    shared, _, _, _ = _boards(people, tmp_path)
    hidden = upload_csv(people.analyst, tmp_path, name="private")
    chart = boards.add_tile(people.analyst, shared, TileInput(
        kind="chart", dataset_id=hidden, spec={"chart_type": "bar", "x": "island"}))
    data = api.get(f"/v1/boards/{shared}/tiles/{chart.id}/data",
                   token=people.token(people.other)).json()
    assert data["problem"] == "This dataset does not exist or is not shared with you."
    assert data["table_rows"] == [] and data["kind"] == "chart"
    mine = api.get(f"/v1/boards/{shared}/tiles/{chart.id}/data",
                   token=people.token(people.analyst)).json()
    assert mine["problem"] == "" and len(mine["table_rows"]) == 3
