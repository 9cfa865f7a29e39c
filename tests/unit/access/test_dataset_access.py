"""Who may see and change a dataset: one home, services.access.dataset_access."""

from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from services.access import dataset_access
from services.access.dataset_access import can_change, can_see
from services.access.permissions import Role
from services.access.users import UserView
from services.data import datasets
from services.errors import NotFound, PermissionDenied
from services.store.db import session_scope
from services.store.models import Dataset
from tests.factories import make_admin, make_user
from tests.unit.one_home import files_matching


def _person(username: str, role: Role) -> UserView:
    return UserView(username=username, name=username, email="", role=role, disabled=False,
                    created_at=datetime.now(UTC))


def _dataset(owner: str, visibility: str) -> SimpleNamespace:
    return SimpleNamespace(owner=owner, visibility=visibility)


@pytest.mark.parametrize(("role", "is_owner", "visibility", "sees", "changes"), [
    (Role.ANALYST, True, "private", True, True),
    (Role.ANALYST, True, "shared", True, True),
    (Role.ANALYST, False, "private", False, False),
    (Role.ANALYST, False, "shared", True, False),  # a colleague's: look, never change
    (Role.ADMIN, True, "private", True, True),
    (Role.ADMIN, False, "shared", True, True),  # admins may change what they can see
    (Role.ADMIN, False, "private", False, False),  # a private dataset stays private
    (Role.VIEWER, True, "private", True, False),  # viewers never change data
    (Role.VIEWER, False, "shared", True, False),
    (Role.VIEWER, False, "private", False, False),
])
def test_who_sees_and_who_changes(role: Role, is_owner: bool, visibility: str, sees: bool,
                                  changes: bool) -> None:
    me = _person("me", role)
    dataset = _dataset("me" if is_owner else "someone", visibility)
    assert can_see(me, dataset) is sees
    assert can_change(me, dataset) is changes


def test_the_service_and_the_list_filter_apply_the_same_rule(tmp_path: Path) -> None:
    admin = make_admin()
    ana, bob = make_user(admin, "ana"), make_user(admin, "bob")
    csv = tmp_path / "sales.csv"
    csv.write_text("region,amount\nNorth,1\nSouth,2\n", encoding="utf-8")
    private, _ = datasets.create_from_upload(ana, csv, original_name="private.csv")
    shared, _ = datasets.create_from_upload(ana, csv, original_name="shared.csv")
    datasets.set_shared(ana, shared.id, True)
    for person in (admin, ana, bob):
        with session_scope() as session:
            rows = list(session.scalars(select(Dataset)))
            allowed = {d.id for d in rows if can_see(person, d)}
            listed = set(session.scalars(
                select(Dataset.id).where(dataset_access.visible_clause(person))))
        assert listed == allowed == {d.id for d in datasets.list_datasets(person)}
    assert datasets.get_dataset(bob, shared.id).is_shared
    with pytest.raises(NotFound):
        datasets.get_dataset(bob, private.id)
    with pytest.raises(PermissionDenied, match="owner or an admin"):
        datasets.update_details(bob, shared.id, name="mine now", description="")
    datasets.update_details(admin, shared.id, name="renamed by an admin", description="")
    assert datasets.get_dataset(ana, shared.id).name == "renamed by an admin"
    assert dataset_access.private_owner(bob, private.id) == "Ana"
    assert dataset_access.private_owner(bob, shared.id) is None


def test_the_rule_is_written_once() -> None:
    home = ["services/access/dataset_access.py"]
    assert files_matching(r"[Dd]ataset\.visibility ==") == home
    assert files_matching(r"\bdataset\.owner [!=]= (user|actor)\.username") == home
