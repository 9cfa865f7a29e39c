"""AppTest: one upload makes one dataset, private links say whose they are, Share, tab kept."""

from pathlib import Path

from services.access import dataset_access, users
from services.access.permissions import Role
from services.data import datasets
from tests.app.helpers import all_text, button, open_page, sign_in
from tests.factories import make_admin, make_user

PENGUINS = Path(__file__).resolve().parents[1] / "data" / "penguins.csv"


def _code_blocks(at) -> list[str]:  # noqa: ANN001 - AppTest
    return [str(c.value) for c in at.code]


# --- a second click on "Create dataset" ---------------------------------------------------

def test_a_second_click_on_create_does_not_make_a_duplicate() -> None:
    make_admin()
    at = open_page(sign_in("ada"), "pages/datasets.py")
    at.file_uploader(key="datasets_upload").set_value(
        ("penguins.csv", PENGUINS.read_bytes(), "text/csv")).run()
    button(at, "Create dataset").click().run()
    assert not at.exception
    assert "“penguins” is ready: 344 rows" in all_text(at)
    ada = users.get_user("ada")
    assert ada is not None and len(datasets.list_datasets(ada)) == 1

    created = [b for b in at.button if b.label == "Create dataset"]
    if created:  # the button may still be on screen from the last run: click it again
        created[0].click().run()
    else:
        at.run()
    assert not at.exception
    assert len(datasets.list_datasets(ada)) == 1
    assert "This file was already added as “penguins”" in all_text(at)
    links = [link.proto.label for link in at.get("page_link")]
    assert "Open “penguins”" in links
    assert not [b for b in at.button if b.label == "Create dataset"]


def test_choosing_the_file_again_may_add_it_again() -> None:
    make_admin()
    at = open_page(sign_in("ada"), "pages/datasets.py")
    upload = ("penguins.csv", PENGUINS.read_bytes(), "text/csv")
    at.file_uploader(key="datasets_upload").set_value(upload).run()
    button(at, "Create dataset").click().run()
    assert "identical" not in all_text(at)
    at.file_uploader(key="datasets_upload").set_value(upload).run()  # a new upload, new id
    assert ("This file is identical to the one “penguins” was made from, so you can open that "
            "dataset instead.") in all_text(at)  # issue 19.12: said, with a link to it
    first = datasets.list_datasets(users.get_user("ada"))[0]  # type: ignore[arg-type]
    assert any(link.proto.label == "Open “penguins”" and f"id={first.id}" in str(link.proto)
               for link in at.get("page_link"))
    button(at, "Create dataset").click().run()
    assert not at.exception
    ada = users.get_user("ada")
    assert ada is not None and len(datasets.list_datasets(ada)) == 2


def test_an_identical_file_someone_else_keeps_private_is_not_mentioned() -> None:
    admin = make_admin()
    make_user(admin, "bob")
    datasets.create_from_upload(admin, PENGUINS, original_name="penguins.csv")  # private
    at = open_page(sign_in("bob"), "pages/datasets.py")
    at.file_uploader(key="datasets_upload").set_value(
        ("penguins.csv", PENGUINS.read_bytes(), "text/csv")).run()
    assert not at.exception
    assert "identical" not in all_text(at)


# --- a link to someone else's private dataset ---------------------------------------------

def test_private_owner_reveals_only_the_owner_of_a_dataset_not_shared_with_me() -> None:
    admin = make_admin()
    bob = make_user(admin, "bob")
    private = datasets.create_from_sample(admin, "iris")
    assert dataset_access.private_owner(bob, private.id) == "Ada Admin"
    assert dataset_access.private_owner(admin, private.id) is None  # my own
    assert dataset_access.private_owner(bob, 999_999) is None  # does not exist
    datasets.set_shared(admin, private.id, True)
    assert dataset_access.private_owner(bob, private.id) is None  # shared: bob may open it


def test_colleague_opening_a_private_dataset_link_is_told_whose_it_is() -> None:
    admin = make_admin()
    private = datasets.create_from_sample(admin, "iris")
    make_user(admin, "bob")
    at = sign_in("bob")
    at.query_params["id"] = str(private.id)
    open_page(at, "pages/dataset.py")
    text = all_text(at)
    assert "This dataset is not shared with you" in text
    assert "Ada Admin" in text
    assert private.name not in text  # nothing about the dataset itself
    assert not at.metric and not at.dataframe


def test_colleague_opening_a_private_explore_link_is_told_whose_it_is() -> None:
    admin = make_admin()
    private = datasets.create_from_sample(admin, "iris")
    make_user(admin, "bob")
    at = sign_in("bob")
    at.query_params["dataset"] = str(private.id)
    open_page(at, "pages/explore.py")
    assert not at.exception
    text = all_text(at)
    assert "There is no dataset to explore yet" not in text
    assert "belongs to Ada Admin and is not shared with you" in text
    assert private.name not in text


def test_explore_link_to_private_dataset_offers_my_own_instead() -> None:
    admin = make_admin()
    private = datasets.create_from_sample(admin, "iris")
    bob = make_user(admin, "bob")
    mine = datasets.create_from_sample(bob, "tips")
    at = sign_in("bob")
    at.query_params["dataset"] = str(private.id)
    open_page(at, "pages/explore.py")
    assert "belongs to Ada Admin" in all_text(at)
    button(at, "Explore another dataset").click().run()
    assert not at.exception
    assert at.query_params["dataset"] == [str(mine.id)] or \
        at.query_params["dataset"] == str(mine.id)
    assert "belongs to Ada Admin" not in all_text(at)


def test_deleted_dataset_link_still_says_not_found() -> None:
    make_admin()
    at = sign_in("ada")
    at.query_params["id"] = "4242"
    open_page(at, "pages/dataset.py")
    assert "Dataset not found" in all_text(at)


# --- the Share button ------------------------------------------------------------------

def test_owner_shares_from_the_share_button_and_the_colleague_can_open_the_link() -> None:
    admin = make_admin()
    view = datasets.create_from_sample(admin, "iris")
    make_user(admin, "bob")
    at = sign_in("ada")
    at.query_params["id"] = str(view.id)
    open_page(at, "pages/dataset.py")
    assert any(c.endswith(f"/dataset?id={view.id}") for c in _code_blocks(at))
    assert "This dataset is private" in all_text(at)
    button(at, "Share with everyone").click().run()
    assert not at.exception
    assert datasets.get_dataset(admin, view.id).is_shared
    assert "now shared with everyone" in all_text(at)
    assert not [b for b in at.button if b.label == "Share with everyone"]
    at.session_state[f"dataset_tab_{view.id}"] = "Details"  # only the open tab runs
    at.run()
    toggle = next(t for t in at.toggle if t.label == "Share with everyone")
    assert toggle.value is True  # the Details toggle agrees, and does not unshare it
    at.run()
    assert datasets.get_dataset(admin, view.id).is_shared

    colleague = sign_in("bob")
    colleague.query_params["id"] = str(view.id)
    open_page(colleague, "pages/dataset.py")
    assert colleague.title[0].value == view.name
    assert [m.value for m in colleague.metric][:1] == ["150"]


def test_share_button_is_only_for_those_who_may_change_the_dataset() -> None:
    admin = make_admin()
    view = datasets.create_from_sample(admin, "iris")
    datasets.set_shared(admin, view.id, True)
    make_user(admin, "bob", Role.ANALYST)
    at = sign_in("bob")
    at.query_params["id"] = str(view.id)
    open_page(at, "pages/dataset.py")
    assert not at.exception
    assert not [c for c in _code_blocks(at) if "?id=" in c]
    assert not [b for b in at.button if b.label == "Share with everyone"]


# --- the open tab stays open --------------------------------------------------------------

def test_changing_a_read_option_keeps_the_versions_tab_open(tmp_path: Path) -> None:
    admin = make_admin()
    upload = tmp_path / "visits.csv"
    upload.write_text("visited,people\n03/01/2024,4\n04/02/2024,7\n")
    view, _ = datasets.create_from_upload(admin, upload, original_name="visits.csv")
    at = sign_in("ada")
    at.query_params["id"] = str(view.id)
    open_page(at, "pages/dataset.py")
    tab_key = f"dataset_tab_{view.id}"
    assert at.session_state[tab_key] == "Preview"
    at.session_state[tab_key] = "Versions"  # as a click on the Versions tab does
    at.run()
    order = next(s for s in at.selectbox if s.label == "Dates written")
    order.set_value("Month first (12/31/2024)").run()
    assert not at.exception
    assert at.session_state[tab_key] == "Versions"
    assert at.get("tab_container")[0].proto.id  # a keyed widget: the browser restores it
