"""AppTest: Home's "My datasets" lists only mine; colleagues' shared ones are listed apart."""

from streamlit.testing.v1 import AppTest

from services.access.permissions import Role
from services.data import datasets
from tests.app.helpers import all_text, as_read, sign_in
from tests.factories import make_admin, make_user


def _links(at: AppTest) -> list[str]:
    return [as_read(link.proto.label) for link in at.get("page_link")]


def _position(labels: list[str], name: str) -> int:
    return next(i for i, label in enumerate(labels) if label.startswith(name))


def test_my_datasets_lists_only_mine_and_shared_ones_are_under_shared_with_me() -> None:
    admin = make_admin()
    bob = make_user(admin, "bob")
    colleagues = datasets.create_from_sample(admin, "tips")
    datasets.set_shared(admin, colleagues.id, True)
    hidden = datasets.create_from_sample(admin, "gapminder")  # private to the admin
    bobs = datasets.create_from_sample(bob, "iris")

    at = sign_in("bob")
    assert not at.exception
    headers = [h.value for h in at.header]
    assert headers.index("My datasets") < headers.index("Shared with me")
    links = _links(at)
    # in page order: bob's own under "My datasets", the admin's shared one after it
    assert _position(links, bobs.name) < _position(links, colleagues.name)
    assert not any(label.startswith(hidden.name) for label in links)
    assert next(label for label in links if label.startswith(colleagues.name)).endswith(
        "shared by ada")

    at = sign_in("ada")
    links = _links(at)
    assert _position(links, colleagues.name) >= 0 and _position(links, hidden.name) >= 0
    assert not any(label.startswith(bobs.name) for label in links)  # bob's is private
    assert "Shared with me" not in [h.value for h in at.header]  # nothing shared by others


def test_a_viewer_with_no_datasets_of_their_own_still_sees_what_is_shared() -> None:
    admin = make_admin()
    make_user(admin, "vic", Role.VIEWER)
    shared = datasets.create_from_sample(admin, "tips")
    datasets.set_shared(admin, shared.id, True)
    at = sign_in("vic")
    assert not at.exception
    assert "No datasets of your own yet." in all_text(at)
    assert any(label.startswith(shared.name) for label in _links(at))
