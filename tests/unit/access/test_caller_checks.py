"""Role and access checks come first: no Claude request, no file read, nothing saved."""

from pathlib import Path

import pandas as pd
import pytest

from services.access import users
from services.access.permissions import Role
from services.access.users import UserView
from services.claude import ask
from services.claude.ask import AskResult, AskTable, SqlPlan
from services.data import datasets
from services.errors import PermissionDenied
from services.research import insights
from services.research import saved_insights as research
from services.research.saved_insights import NewInsight
from tests.factories import make_admin, make_item, make_user
from tests.fakes.claude_server import FakeClaude

pytestmark = pytest.mark.usefixtures("claude_at_fake")
QUESTION = "What is the total bill by day?"


@pytest.fixture()
def admin() -> UserView:
    return make_admin()


@pytest.fixture()
def tips(admin: UserView) -> datasets.DatasetView:
    """A dataset the admin keeps private."""
    return datasets.create_from_sample(admin, "tips")


def _table(actor: UserView, dataset: datasets.DatasetView) -> AskTable:
    version = datasets.get_version(actor, dataset.id)
    return AskTable(sql_name="tips", display_name=dataset.name,
                    parquet_path=Path(version.parquet_path), dataset_id=dataset.id)


def _answered() -> AskResult:
    return AskResult(question=QUESTION, status="answered", sql="SELECT 1 AS x",
                     frame=pd.DataFrame({"x": [1]}), total_rows=1)


@pytest.mark.parametrize("by", ["actor", "username"])
def test_a_viewer_gets_no_plan_and_claude_gets_no_request(
        fake: FakeClaude, admin: UserView, tips: datasets.DatasetView, by: str) -> None:
    viewer = make_user(admin, "vic", Role.VIEWER)
    datasets.set_shared(admin, tips.id, True)
    table = _table(viewer, tips)
    who = {"actor": viewer} if by == "actor" else {"user": "vic"}
    plan = SqlPlan(sql="SELECT 1")
    calls = [
        lambda: ask.ask(QUESTION, [table], **who),
        lambda: ask.plan_query(QUESTION, [table], **who),
        lambda: ask.run_with_repairs(QUESTION, plan, [table], **who),
        lambda: ask.stream_answer(QUESTION, _answered(), **who),
    ]
    for call in calls:
        with pytest.raises(PermissionDenied, match="Your role does not allow this"):
            call()
    assert fake.requests == []


def test_unknown_or_disabled_accounts_are_refused(fake: FakeClaude, admin: UserView,
                                                  tips: datasets.DatasetView) -> None:
    table = _table(admin, tips)
    with pytest.raises(PermissionDenied, match="sign in again"):
        ask.plan_query(QUESTION, [table], user="nobody")
    with pytest.raises(PermissionDenied, match="sign in again"):
        ask.plan_query(QUESTION, [table])
    ann = make_user(admin, "ann")
    users.set_disabled(admin, "ann", True)
    with pytest.raises(PermissionDenied, match="sign in again"):
        ask.ask(QUESTION, [table], actor=ann)  # a stale view: the store says disabled
    assert fake.requests == []


def test_another_persons_private_dataset_is_refused_before_claude(
        fake: FakeClaude, admin: UserView, tips: datasets.DatasetView) -> None:
    ann = make_user(admin, "ann")
    stolen = _table(admin, tips)  # the admin's private file, offered as Ann's table
    with pytest.raises(PermissionDenied, match="not shared with you"):
        ask.ask(QUESTION, [stolen], actor=ann)
    with pytest.raises(PermissionDenied, match="not shared with you"):
        ask.run_with_repairs(QUESTION, SqlPlan(sql="SELECT * FROM tips"), [stolen], actor=ann)
    by_path = stolen.model_copy(update={"dataset_id": None})  # the file alone, no id
    with pytest.raises(PermissionDenied, match="not shared with you"):
        ask.plan_query(QUESTION, [by_path], actor=ann)
    own = datasets.create_from_sample(ann, "iris")
    swapped = _table(ann, own).model_copy(update={"parquet_path": stolen.parquet_path})
    with pytest.raises(PermissionDenied, match="not shared with you"):
        ask.plan_query(QUESTION, [swapped], actor=ann)  # her dataset's id, his file
    assert fake.requests == []


def test_an_analyst_with_access_gets_a_plan(fake: FakeClaude, admin: UserView,
                                            tips: datasets.DatasetView) -> None:
    ann = make_user(admin, "ann")
    datasets.set_shared(admin, tips.id, True)
    plan = ask.plan_query(QUESTION, [_table(ann, tips)], actor=ann)
    assert plan.sql
    assert len(fake.message_requests) == 1


def test_save_insight_refuses_a_dataset_the_person_cannot_see(
        admin: UserView, tips: datasets.DatasetView) -> None:
    ann = make_user(admin, "ann")
    item = make_item(ann, "Tips study")
    insight = NewInsight(item_id=item.id, kind="chart", title="Bills", spec={"x": "day"},
                         dataset_id=tips.id, dataset_version=tips.current_version)
    with pytest.raises(PermissionDenied, match="not shared with you"):
        research.save_insight(ann, insight, pd.DataFrame({"day": ["Sun"]}))
    missing = insight.model_copy(update={"dataset_id": 99_999})
    with pytest.raises(PermissionDenied, match="not shared with you"):
        research.save_insight(ann, missing, pd.DataFrame({"day": ["Sun"]}))
    assert insights.list_insights(ann, item.id) == []

    datasets.set_shared(admin, tips.id, True)
    saved = research.save_insight(ann, insight, pd.DataFrame({"day": ["Sun"]}))
    assert saved.dataset_id == tips.id
    wrong_version = insight.model_copy(update={"dataset_version": 42})
    with pytest.raises(PermissionDenied):
        research.save_insight(ann, wrong_version, pd.DataFrame({"day": ["Sun"]}))
    assert len(insights.list_insights(ann, item.id)) == 1


def test_the_sql_tab_checks_role_and_access_before_running(
        admin: UserView, tips: datasets.DatasetView) -> None:
    own = _table(admin, tips)
    ran = ask.run_sql("SELECT count(*) AS n FROM tips", [own], actor=admin)
    assert ran.frame["n"].tolist() == [244]
    ann = make_user(admin, "ann")
    with pytest.raises(PermissionDenied, match="not shared with you"):
        ask.run_sql("SELECT * FROM tips", [own], actor=ann)  # the admin's private file
    viewer = make_user(admin, "vera", role=Role.VIEWER)
    datasets.set_shared(admin, tips.id, True)
    with pytest.raises(PermissionDenied, match="cannot run queries"):
        ask.run_sql("SELECT * FROM tips", [_table(viewer, tips)], actor=viewer)
