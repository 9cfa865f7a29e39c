"""AppTest: the Datasets list and a Dataset's page, for every role, with its main actions."""

import pytest

from services.access import users
from services.access.permissions import Role
from services.data import datasets
from tests.app.helpers import all_text, as_read, button, open_page, sign_in
from tests.factories import make_admin, make_user


@pytest.mark.parametrize("role", list(Role))
def test_datasets_and_dataset_pages_render_for_every_role(role: Role) -> None:
    admin = make_admin()
    shared = datasets.create_from_sample(admin, "tips")
    datasets.set_shared(admin, shared.id, True)
    username = "ada" if role == Role.ADMIN else "someone"
    if role != Role.ADMIN:
        make_user(admin, username, role)
    at = open_page(sign_in(username), "pages/datasets.py")
    assert not at.exception
    assert shared.name in [link.proto.label for link in at.get("page_link")]
    uploads_offered = any(t.label == "Upload a file" for t in at.tabs)
    assert uploads_offered == (role != Role.VIEWER)

    at.query_params["id"] = str(shared.id)
    open_page(at, "pages/dataset.py")
    assert not at.exception
    assert [m.value for m in at.metric][:2] == ["244", "7"]
    at.session_state[f"dataset_tab_{shared.id}"] = "Clean"  # only the open tab runs
    at.run()
    assert not at.exception
    can_clean = "Only the owner or an admin can clean this dataset." not in all_text(at)
    assert can_clean == (role == Role.ADMIN)


def test_private_dataset_is_not_found_for_others() -> None:
    admin = make_admin()
    private = datasets.create_from_sample(admin, "iris")
    make_user(admin, "bob")
    at = sign_in("bob")
    at.query_params["id"] = str(private.id)
    open_page(at, "pages/dataset.py")
    assert "This dataset is not shared with you" in all_text(at)  # and says whose it is
    assert not at.metric


def test_adding_a_sample_from_the_page_creates_a_dataset() -> None:
    make_admin()
    at = open_page(sign_in("ada"), "pages/datasets.py")
    offered = {b.key for b in at.button if b.key and b.key.startswith("datasets_sample_")}
    home = open_page(sign_in("ada"), "pages/home.py")
    assert offered == {b.key.replace("home_sample_", "datasets_sample_") for b in home.button
                       if b.key and b.key.startswith("home_sample_")}  # one list, as on Home
    at.button(key="datasets_sample_tips").click().run()
    assert not at.exception
    assert "“Restaurant tips” is ready: 244 rows, shared with everyone." in all_text(at)
    ada = users.get_user("ada")
    assert ada is not None
    [added] = datasets.list_datasets(ada)
    assert added.is_shared  # the same behaviour as Home's picker


def test_dataset_page_without_id_points_to_the_list() -> None:
    make_admin()
    at = open_page(sign_in("ada"), "pages/dataset.py")
    assert "No dataset chosen." in all_text(at)


def test_quality_fix_then_apply_makes_a_new_version() -> None:
    admin = make_admin()
    view = datasets.create_from_sample(admin, "tips")
    at = sign_in("ada")
    at.query_params["id"] = str(view.id)
    open_page(at, "pages/dataset.py")
    def fixes() -> list:  # noqa: ANN202 - AppTest buttons
        return [b for b in at.button if (b.key or "").startswith(f"dataset_fix_{view.id}_")]

    assert not fixes()  # computed only when opened
    at.session_state[f"dataset_tab_{view.id}"] = "Quality"
    at.run()
    [fix] = [b for b in fixes() if "repeats another row" in b.label]
    assert as_read(fix.label) == "Remove 1 row (<1%) that repeats another row — nothing else " \
                                 "is lost", "the tips sample has one repeated row, with a fix"
    fix.click().run()
    assert "Added to the recipe" in all_text(at)
    at.session_state[f"dataset_tab_{view.id}"] = "Clean"  # only the open tab runs
    at.run()
    button(at, "Apply recipe").click().run()
    assert not at.exception
    assert datasets.get_dataset(admin, view.id).current_version == 2
    assert datasets.get_dataset(admin, view.id).rows == 243


def test_reading_the_original_again_with_month_first_dates(tmp_path) -> None:  # noqa: ANN001
    import datetime as dt

    import duckdb

    admin = make_admin()
    upload = tmp_path / "visits.csv"
    upload.write_text("visited,people\n03/01/2024,4\n04/02/2024,7\n")
    view, first = datasets.create_from_upload(admin, upload, original_name="visits.csv")
    assert any("could be read two ways" in w for w in first.warnings)
    at = sign_in("ada")
    at.query_params["id"] = str(view.id)
    open_page(at, "pages/dataset.py")
    at.session_state[f"dataset_tab_{view.id}"] = "Versions"  # only the open tab runs
    at.run()
    order = next(s for s in at.selectbox if s.label == "Dates written")
    order.set_value("Month first (12/31/2024)").run()
    button(at, "Read again").click().run()
    assert not at.exception
    assert "Version 2 is the file read again." in all_text(at)
    version = datasets.get_version(admin, view.id, 2)
    read = duckdb.sql(f"SELECT visited FROM '{version.parquet_path}'").fetchall()
    assert read == [(dt.date(2024, 3, 1),), (dt.date(2024, 4, 2),)]


def test_a_wide_table_is_summarised_and_checked_with_a_progress_bar_that_goes_away(
        tmp_path) -> None:  # noqa: ANN001
    admin = make_admin()
    columns = 320  # more than one batch of columns
    header = ",".join(f"c{i}" for i in range(columns))
    lines = [",".join(f" v{r % 3}" if i % 2 else str(r * i) for i in range(columns))
             for r in range(12)]
    upload = tmp_path / "wide.csv"
    upload.write_text(header + "\n" + "\n".join(lines) + "\n")
    view, _ = datasets.create_from_upload(admin, upload, original_name="wide.csv")
    at = sign_in("ada")
    at.query_params["id"] = str(view.id)
    open_page(at, "pages/dataset.py")
    at.session_state[f"dataset_tab_{view.id}"] = "Quality"
    at.run()
    assert not at.exception
    assert [m.value for m in at.metric][1] == "320"  # the Columns metric
    assert "extra spaces at the start or end" in all_text(at)  # findings of the last batch
    assert not at.get("progress")  # the bar is gone once the work is done
