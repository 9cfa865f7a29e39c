"""Who may read and change a research item: one home, services.access.item_access, applied
alike to its details, insights, Claude runs and exports (issue 18.6)."""

from datetime import UTC, datetime
from types import SimpleNamespace

import pandas as pd
import pytest

from services.access.item_access import can_change, can_read
from services.access.permissions import Role
from services.access.users import UserView
from services.errors import NotFound, PermissionDenied
from services.prompts import item_runs, templates
from services.prompts.calls import CallResult
from services.prompts.templates import TemplateDraft
from services.reports import bundle
from services.research import insights, items
from services.research import saved_insights as research
from services.research.items import ItemInput
from services.research.saved_insights import NewInsight
from tests.factories import make_admin, make_user
from tests.fakes.claude_server import FakeClaude
from tests.unit.one_home import files_matching


def _person(username: str, role: Role) -> UserView:
    return UserView(username=username, name=username, email="", role=role, disabled=False,
                    created_at=datetime.now(UTC))


@pytest.mark.parametrize(("role", "is_owner", "visibility", "reads", "changes"), [
    (Role.ANALYST, True, "private", True, True),
    (Role.ANALYST, True, "shared", True, True),
    (Role.ANALYST, False, "private", False, False),
    (Role.ANALYST, False, "shared", True, False),  # a colleague's: read, export, never add
    (Role.ADMIN, False, "shared", True, True),  # admins may change what they can read
    (Role.ADMIN, False, "private", False, False),  # a private item stays private
    (Role.VIEWER, False, "shared", True, False),  # viewers read and export, never change
    (Role.VIEWER, False, "private", False, False),
])
def test_who_reads_and_who_changes(role: Role, is_owner: bool, visibility: str, reads: bool,
                                   changes: bool) -> None:
    me = _person("me", role)
    item = SimpleNamespace(owner="me" if is_owner else "someone", visibility=visibility)
    assert can_read(me, item) is reads
    assert can_change(me, item) is changes
    assert can_read(me, None) is False and can_change(me, None) is False


def test_the_rule_is_written_once() -> None:
    home = ["services/access/item_access.py"]
    assert files_matching(r"\bitem\.visibility ==") == home
    assert files_matching(r"\bitem\.owner [!=]= (user|actor)\.username") == home


def _answer(item_id: int) -> NewInsight:
    return NewInsight(item_id=item_id, kind="answer", title="Bob's answer", spec={})


def test_only_the_owner_or_an_admin_adds_an_insight_to_an_item() -> None:
    admin = make_admin()
    alice, bob = make_user(admin, "alice"), make_user(admin, "bob")
    item = items.create_item(alice, ItemInput(title="Churn", visibility="shared"))
    with pytest.raises(PermissionDenied, match="owner or an admin"):
        research.save_insight(bob, _answer(item.id), pd.DataFrame({"a": [1]}))
    assert insights.count_insights(alice, item.id) == 0
    assert items.get_item(alice, item.id).updated_at == item.updated_at
    research.save_insight(alice, _answer(item.id), pd.DataFrame({"a": [1]}))
    research.save_insight(admin, _answer(item.id), pd.DataFrame({"a": [1]}))
    assert insights.count_insights(bob, item.id) == 2  # bob still reads them
    assert items.get_item(alice, item.id).updated_at > item.updated_at


def test_only_the_owner_or_an_admin_adds_a_prompt_run_to_an_item(
        claude_at_fake: FakeClaude) -> None:
    admin = make_admin()
    alice, bob = make_user(admin, "alice"), make_user(admin, "bob")
    item = items.create_item(alice, ItemInput(title="Churn", visibility="shared"))
    template = templates.create_template(bob, TemplateDraft(
        name="Sum", body="Summarise {title}", model="claude-haiku-4-5", max_tokens=50))
    with pytest.raises(PermissionDenied, match="owner or an admin"):
        item_runs.run_on_item(bob, template.id, item.id)
    version = templates.get_version(bob, template.id)
    made_up = CallResult(status="succeeded", model="claude-haiku-4-5", prompt="p", output="o",
                         input_tokens=1, output_tokens=1, cost_estimate=0.0, latency_ms=1.0)
    with pytest.raises(PermissionDenied, match="owner or an admin"):
        item_runs.save_run(bob, item.id, version, made_up)  # the write checks too
    assert claude_at_fake.message_requests == []  # refused before any token
    assert item_runs.runs_for_item(alice, item.id) == []
    assert items.get_item(alice, item.id).updated_at == item.updated_at
    assert not item_runs.can_run_on_item(bob, item)
    claude_at_fake.script([{"text": "By the owner."}, {"text": "By an admin."}])
    for person in (alice, admin):
        assert item_runs.can_run_on_item(person, item)
        list(item_runs.run_on_item(person, template.id, item.id))
    runs = item_runs.runs_for_item(bob, item.id)  # bob reads the runs
    assert [r.created_by for r in runs] == ["ada", "alice"]
    assert items.get_item(alice, item.id).updated_at > item.updated_at


def test_exporting_is_a_read() -> None:
    admin = make_admin()
    alice = make_user(admin, "alice")
    viewer = make_user(admin, "vic", Role.VIEWER)
    shared = items.create_item(alice, ItemInput(title="Shared", visibility="shared"))
    private = items.create_item(alice, ItemInput(title="Private"))
    research.save_insight(alice, _answer(shared.id), pd.DataFrame({"a": [1]}))
    for reader in (viewer, make_user(admin, "bob"), admin):
        export = bundle.load_export(reader, shared.id)
        assert export.item.title == "Shared" and len(export.insights) == 1
        with pytest.raises(NotFound):
            bundle.load_export(reader, private.id)
