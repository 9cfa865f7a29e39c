"""AppTest: the Boards page — build a board, add a note, move a tile and change its width;
the filter bar adds and removes a filter and a tile says it ignores it; a chart selection
becomes a chip and Back removes it; a viewer cannot edit; someone else's private board is
refused in one sentence."""

import json

import pandas as pd
from streamlit.testing.v1 import AppTest

from components import board_tile
from services.access.permissions import Role
from services.access.users import UserView
from services.boards import boards, tiles
from services.boards.models import BoardInput, TileInput
from services.data import datasets, samples
from services.reports import board_export
from tests.app.helpers import all_text, as_read, button, open_page, sign_in
from tests.factories import make_admin, make_user

BAR = {"chart_type": "bar", "x": "species", "agg": "count"}


def _open(username: str, board_id: int) -> AppTest:
    at = sign_in(username)
    at.query_params["board"] = str(board_id)
    return open_page(at, "pages/boards.py")


def _iris_and_tips(owner: UserView) -> int:
    """A shared board: a bar chart of iris flowers by species, a tips chart, and a note."""
    iris = datasets.create_from_sample(owner, "iris")
    tips = datasets.create_from_sample(owner, "tips")
    board = boards.create_board(owner, BoardInput(title="Animals and tips", columns=2,
                                                  visibility="shared"))
    boards.add_tile(owner, board.id, TileInput(kind="chart", dataset_id=iris.id, spec=BAR))
    boards.add_tile(owner, board.id, TileInput(
        kind="chart", dataset_id=tips.id, spec={"chart_type": "bar", "x": "day",
                                                "agg": "count"}))
    boards.add_tile(owner, board.id, TileInput(kind="note", note="Read **this** first."))
    return board.id


def test_build_a_board_add_a_note_move_it_and_change_its_width() -> None:
    ann = make_user(make_admin(), "ann")
    at = open_page(sign_in("ann"), "pages/boards.py")
    assert not at.exception
    assert "There are no boards yet." in all_text(at)
    at.text_input(key="boards_new_title").input("Weekly sales")
    at.text_area(key="boards_new_description").input("What sold this week")
    at.number_input(key="boards_new_columns").set_value(3)
    button(at, "Create board").click().run()
    assert not at.exception
    board = boards.list_boards(ann)[0]
    assert (board.title, board.columns, board.visibility) == ("Weekly sales", 3, "private")
    assert at.query_params["board"] == str(board.id)
    for text in ("First note", "Second <script>alert(1)</script> note"):
        at.text_area(key=f"board_{board.id}_note_text").input(text)
        button(at, "Add note").click().run()
    assert not at.exception
    notes = [m.value for m in at.markdown if "note" in m.value]
    assert "First note" in notes
    assert not any("<script>" in n for n in notes)  # sanitised: shown as text, never run
    first, second = boards.get_board(ann, board.id).tiles
    at.button(key=f"board_{board.id}_move_right_{first.id}").click().run()
    assert [t.id for t in boards.get_board(ann, board.id).tiles] == [
        second.id, first.id]
    at.segmented_control(key=f"board_{board.id}_width_{second.id}").set_value(2).run()
    assert not at.exception
    assert boards.get_board(ann, board.id).tiles[0].width == 2
    at.segmented_control(key=f"board_{board.id}_width_{second.id}").set_value(None).run()
    assert at.segmented_control(key=f"board_{board.id}_width_{second.id}").value == 2
    at.button(key=f"board_{board.id}_remove_{first.id}").click().run()
    assert [t.id for t in boards.get_board(ann, board.id).tiles] == [
        second.id]
    assert "is removed from the board" in all_text(at)


def test_filter_bar_adds_and_removes_a_filter_and_a_tile_ignores_it() -> None:
    admin = make_admin()
    board_id = _iris_and_tips(admin)
    at = _open("ada", board_id)
    assert not at.exception
    assert "species" in at.selectbox(key=f"board_{board_id}_bar_column").options
    at.selectbox(key=f"board_{board_id}_bar_column").select("species").run()
    at.multiselect(key=f"board_{board_id}_bar_f_values_species").select("setosa").run()
    at.button(key=f"board_{board_id}_bar_add").click().run()
    assert not at.exception
    text = all_text(at)
    assert "ignores the filter on “species”" in text
    chips = at.get("button_group")
    assert any("species" in str(c.proto) for c in chips)
    at.button(key=f"board_{board_id}_back").click().run()
    assert "ignores the filter" not in all_text(at)


def test_a_selection_becomes_a_chip_and_back_removes_it() -> None:
    admin = make_admin()
    board_id = _iris_and_tips(admin)
    at = _open("ada", board_id)
    chart = next(t for t in boards.get_board(admin, board_id).tiles if t.kind == "chart")
    at.session_state[f"board_{board_id}_chart_{chart.id}"] = {"selection": {
        "points": [{"x": "setosa"}], "box": [], "lasso": [], "point_indices": [0]}}
    at.run()
    assert not at.exception
    selections = at.session_state[f"board_{board_id}_selections"]
    assert [s["label"] for s in selections] == ["species is setosa"]
    assert "species is setosa" in str([c.proto for c in at.get("button_group")])
    at.button(key=f"board_{board_id}_back").click().run()
    assert at.session_state[f"board_{board_id}_selections"] == []


def test_a_viewer_reads_a_shared_board_but_cannot_edit_it() -> None:
    admin = make_admin()
    make_user(admin, "vic", Role.VIEWER)
    board = boards.create_board(admin, BoardInput(title="Team board", visibility="shared"))
    boards.add_tile(admin, board.id, TileInput(kind="note", note="Hello team"))
    at = open_page(sign_in("vic"), "pages/boards.py")
    assert not at.exception
    assert not any(e.proto.label == "New board" for e in at.expander)
    assert "making and changing boards is for analysts and admins" in all_text(at)
    at.query_params["board"] = str(board.id)
    at.run()
    assert not at.exception
    assert "Hello team" in all_text(at)
    labels = {b.label for b in at.button}
    assert labels.isdisjoint({"Move up", "Remove from board", "Delete for good", "Add note",
                              "Save changes"})


def test_someone_elses_private_board_is_refused_in_one_sentence() -> None:
    admin = make_admin()
    make_user(admin, "bob")
    private = boards.create_board(admin, BoardInput(title="Secret plans"))
    at = _open("bob", private.id)
    assert not at.exception
    assert [i.value for i in at.info] == ["That board does not exist or is not shared with you."]
    assert "Secret plans" not in all_text(at)


def test_edit_then_delete_a_board_with_a_confirmation() -> None:
    ann = make_user(make_admin(), "ann")
    board = boards.create_board(ann, BoardInput(title="Draft"))
    at = _open("ann", board.id)
    at.text_input(key=f"board_{board.id}_edit_title").input("Final")
    at.radio(key=f"board_{board.id}_edit_visibility").set_value("shared")
    button(at, "Save changes").click().run()
    assert not at.exception
    saved = boards.get_board(ann, board.id)
    assert (saved.title, saved.visibility) == ("Final", "shared")
    assert "shared with everyone" in all_text(at)
    button(at, "Delete for good").click().run()
    assert not at.exception
    assert boards.list_boards(ann) == []
    assert "“Final” is deleted." in all_text(at)


def test_a_board_says_what_changed_since_it_was_last_opened() -> None:
    admin = make_admin()
    tips = datasets.create_from_sample(admin, "tips")
    board = boards.create_board(admin, BoardInput(title="Tips"))
    boards.add_tile(admin, board.id, TileInput(
        kind="chart", dataset_id=tips.id, spec={"chart_type": "bar", "x": "day",
                                                "agg": "count"}))
    first = _open("ada", board.id)
    assert "What changed" not in all_text(first)
    assert "Updated to version 1" in all_text(first)
    datasets.restore_version(admin, tips.id, 1)  # a new version 2 of the same rows
    again = _open("ada", board.id)
    assert not again.exception
    text = all_text(again)
    assert "What changed since you last opened this board" in text
    assert "Updated to version 2" in text


def test_number_and_table_tiles_are_shown_large_and_as_a_table() -> None:
    admin = make_admin()
    tips = datasets.create_from_sample(admin, "tips")
    board = boards.create_board(admin, BoardInput(title="Bills", columns=2))
    boards.add_tile(admin, board.id, TileInput(kind="number", dataset_id=tips.id, spec={
        "aggregate": "count", "column": None, "label": "bills", "date_column": None,
        "period": None, "filters": []}))
    boards.add_tile(admin, board.id, TileInput(kind="table", dataset_id=tips.id, spec={
        "question": "Which day is busiest?", "sql": "SELECT day, count(*) AS bills FROM tips",
        "columns": ["day", "bills"], "rows": [["Sat", 87], ["Sun", 76]]}))
    at = _open("ada", board.id)
    assert not at.exception
    assert [m.value for m in at.metric] == ["244 bills"]
    table = at.dataframe[-1].value
    assert list(table.columns) == ["day", "bills"] and len(table) == 2


def test_a_fall_reads_as_a_fall_on_a_number_tile() -> None:
    assert board_tile._delta("−3 % on the previous month") == (
        "-3 % on the previous month", False)
    assert board_tile._delta("+8 % on the previous month") == (
        "+8 % on the previous month", False)
    assert board_tile._delta("no change on the previous month") == (
        "no change on the previous month", True)
    assert board_tile._delta("") == (None, False)


def test_a_dataset_made_private_leaves_the_board_at_once() -> None:
    admin = make_admin()
    make_user(admin, "bob")
    tips = datasets.create_from_sample(admin, "tips")
    datasets.set_shared(admin, tips.id, True)
    board = boards.create_board(admin, BoardInput(title="Tips", visibility="shared"))
    boards.add_tile(admin, board.id, TileInput(
        kind="chart", dataset_id=tips.id, spec={"chart_type": "bar", "x": "day",
                                                "agg": "count"}))
    at = _open("bob", board.id)
    assert len(at.get("plotly_chart")) == 1
    datasets.set_shared(admin, tips.id, False)
    at.run()
    assert not at.exception
    assert len(at.get("plotly_chart")) == 0
    assert at.warning  # the tile says in one sentence why it cannot be drawn


def test_a_broken_board_link_gets_the_same_one_sentence() -> None:
    make_admin()
    at = _open("ada", 0)
    for link in ("abc", "²", "99999999999999999999999", "-1"):
        at.query_params["board"] = link
        at.run()
        assert not at.exception, link
        assert [i.value for i in at.info] == [
            "That board does not exist or is not shared with you."], link


def test_present_from_the_board_page_then_back_with_the_exports_in_the_actions() -> None:
    board_id = _iris_and_tips(make_admin())
    at = _open("ada", board_id)
    assert not at.exception
    assert [b.label for b in at.get("download_button")][:1] == ["Download the board (HTML)"]
    at.button(key=f"board_present_start_{board_id}").click().run()
    assert not at.exception
    assert at.query_params["present"] == "1"
    assert "Tile 1 of 3" in all_text(at)
    assert not [b for b in at.button if b.key and "_move_" in b.key]  # no menus when presenting
    at.button(key=f"board_present_{board_id}_next").click().run()
    assert "Tile 2 of 3" in all_text(at)
    at.button(key=f"board_present_{board_id}_exit").click().run()
    assert "present" not in at.query_params
    assert at.button(key=f"board_present_start_{board_id}")  # the board with its menus again


def test_add_a_number_with_its_period_and_a_bad_choice_changes_nothing() -> None:
    admin = make_admin()
    weather, _ = samples.add_sample(admin, "seattle-weather")
    board = boards.create_board(admin, BoardInput(title="Weather", columns=2))
    at = _open("ada", board.id)
    key = f"board_{board.id}_number"
    at.selectbox(key=f"{key}_dataset").set_value(weather.id).run()
    at.selectbox(key=f"{key}_measure").set_value("mean").run()
    assert "weather" not in at.selectbox(key=f"{key}_column").options  # text: no mean
    button(at, "Add number").click().run()  # no column chosen yet
    assert "Please choose the column whose mean the number shows." in all_text(at)
    assert boards.get_board(admin, board.id).tiles == []
    at.selectbox(key=f"{key}_column").set_value("temp_max").run()
    at.selectbox(key=f"{key}_date").set_value("date").run()
    at.selectbox(key=f"{key}_period").set_value("year").run()
    at.text_input(key=f"{key}_label").input("warmest afternoons").run()
    button(at, "Add number").click().run()
    assert not at.exception
    (tile,) = boards.get_board(admin, board.id).tiles
    assert (tile.kind, tile.spec["aggregate"], tile.spec["column"], tile.spec["date_column"],
            tile.spec["period"]) == ("number", "mean", "temp_max", "date", "year")
    assert "The number is added at the end of the board." in all_text(at)
    (metric,) = at.metric
    # 2015 is the latest full year of the data; its mean of temp_max, as pandas reads it
    frame = pd.read_csv(samples.get_sample("seattle-weather").path, parse_dates=["date"])
    mean_2015 = frame.loc[frame["date"].dt.year == 2015, "temp_max"].mean()
    assert metric.label == "Warmest afternoons"
    assert metric.value.startswith(f"{mean_2015:.2f}"[:4])


def _popover(at: AppTest, label: str):  # noqa: ANN202 - AppTest block type
    return next(p for p in at.get("popover") if p.proto.popover.label == label)


def test_the_add_a_filter_popover_keeps_one_identity_while_a_message_comes_and_goes() -> None:
    """The browser keeps a popover open through a rerun by its id. A message shown once
    above the filter bar (here: "The note is added…") moves the popover one place down on
    that run and back up on the next, when a column is chosen in it: without an id of its
    own the popover was drawn anew there, closed."""
    board_id = _iris_and_tips(make_admin())
    at = _open("ada", board_id)
    at.text_area(key=f"board_{board_id}_note_text").input("One more note")
    button(at, "Add note").click().run()
    assert "The note is added at the end of the board." in all_text(at)
    first = _popover(at, "Add a filter").proto.id
    at.selectbox(key=f"board_{board_id}_bar_column").select("species").run()
    assert not at.exception
    assert "The note is added" not in all_text(at)  # the message has gone
    assert first and _popover(at, "Add a filter").proto.id == first


def test_a_chart_tile_says_what_it_shows_once_in_a_heading_and_its_pictures_keep_it() -> None:
    admin = make_admin()
    board_id = _iris_and_tips(admin)
    at = _open("ada", board_id)
    assert not at.exception
    board = boards.get_board(admin, board_id)
    charts = [c for c in tiles.board_contents(admin, board, [], []) if c.kind == "chart"]
    headings = [as_read(h.value) for h in at.subheader]
    assert [c.title for c in charts] == [h for h in headings if h != "Note"]
    figures = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    assert len(figures) == 2
    assert [(f["layout"].get("title") or {}).get("text") for f in figures] == [None, None]
    for content in charts:  # the PNG and the HTML export draw the figure with its title
        picture = json.loads(board_export.figure_json(content) or "{}")
        assert picture["layout"]["title"]["text"] == content.title


def test_present_names_the_board_filters_the_audience_cannot_see() -> None:
    board_id = _iris_and_tips(make_admin())
    at = _open("ada", board_id)
    at.selectbox(key=f"board_{board_id}_bar_column").select("species").run()
    at.multiselect(key=f"board_{board_id}_bar_f_values_species").select("setosa").run()
    at.button(key=f"board_{board_id}_bar_add").click().run()
    at.button(key=f"board_present_start_{board_id}").click().run()
    assert not at.exception
    assert "Filtered to: species: setosa." in [as_read(c.value) for c in at.caption]


def test_sharing_a_board_says_which_data_is_private_and_shares_it_in_one_click() -> None:
    admin = make_admin()
    ana = make_user(admin, "ana")
    make_user(admin, "vic", Role.VIEWER)
    board_id = _iris_and_tips(ana)  # shared, on two datasets ana keeps private
    viewer = _open("vic", board_id)
    assert len(viewer.get("plotly_chart")) == 0  # both charts: "not shared with you"
    assert not any("private data" in w.value for w in viewer.warning)  # no names for vic
    at = _open("ana", board_id)
    private = [w.value for w in at.warning if "private data" in w.value]
    assert private == ["2 tiles of this board show private data, so colleagues see them as "
                       "not shared with them: “Iris flowers” and “Restaurant tips”. Share "
                       "them too, or remove those tiles."]
    button(at, "Share these datasets").click().run()
    assert not at.exception
    assert ("2 datasets of this board are now shared: everyone who signs in can read them."
            in all_text(at))
    assert not any("private data" in w.value for w in at.warning)
    assert all(d.is_shared for d in datasets.list_datasets(ana))
    viewer.run()
    assert len(viewer.get("plotly_chart")) == 2


def test_one_private_tile_is_said_in_the_singular() -> None:
    ana = make_user(make_admin(), "ana")
    tips = datasets.create_from_sample(ana, "tips")
    board = boards.create_board(ana, BoardInput(title="Tips", visibility="shared"))
    boards.add_tile(ana, board.id, TileInput(kind="chart", dataset_id=tips.id, spec={
        "chart_type": "bar", "x": "day", "agg": "count"}))
    boards.add_tile(ana, board.id, TileInput(kind="note", note="No data here"))
    at = _open("ana", board.id)
    assert [w.value for w in at.warning if "private data" in w.value] == [
        "1 tile of this board shows private data, so colleagues see it as not shared with "
        "them: “Restaurant tips”. Share it too, or remove that tile."]
    button(at, "Share this dataset").click().run()
    assert ("1 dataset of this board is now shared: everyone who signs in can read it."
            in all_text(at))
    assert datasets.get_dataset(ana, tips.id).is_shared
