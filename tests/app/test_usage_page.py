"""AppTest: the Usage page (admins: everyone's, others: their own), budgets set by an admin
and seen by the person, and Home's "my month"."""

import pytest
from streamlit.testing.v1 import AppTest

from services.access.permissions import Role
from services.access.users import UserView
from services.claude import usage
from services.claude.client import CallUsage
from tests.app.helpers import all_text, button, open_page, sign_in
from tests.factories import make_admin, make_user

PAGE = "pages/usage.py"


def _call(user: str, feature: str, cost: float, *, failed: bool = False) -> None:
    usage.record_usage(CallUsage(user=user, feature=feature, model="claude-haiku-4-5",
                                 input_tokens=1000, output_tokens=100, latency_ms=800,
                                 cost_estimate=cost, status="failed" if failed else "succeeded"))


@pytest.fixture
def people() -> UserView:
    admin = make_admin()
    make_user(admin, "ann")
    make_user(admin, "vic", Role.VIEWER)
    _call("ann", "prompt.batch", 0.5)
    _call("ann", "ask.sql", 0.25, failed=True)
    _call("ada", "prompt.single", 1.0)
    return admin


def _usage(username: str) -> AppTest:
    at = open_page(sign_in(username), PAGE)
    assert not at.exception, at.exception
    return at


def _tables(at: AppTest) -> list:
    return [d.value for d in at.dataframe]


def test_admins_see_everyone_by_person_and_feature(people: UserView) -> None:
    at = _usage("ada")
    assert "You see everyone's" in all_text(at)
    assert at.metric[0].value == "3"  # calls
    by_day = next(t for t in _tables(at) if "Day" in t.columns)
    assert by_day["Calls"].sum() == 3
    at.radio(key="usage_grouping").set_value("person").run()
    by_person = next(t for t in _tables(at) if "Person" in t.columns and "Calls" in t.columns)
    assert dict(zip(by_person["Person"], by_person["Calls"], strict=True)) == {"ada": 1, "ann": 2}
    at.radio(key="usage_grouping").set_value("feature").run()
    by_feature = next(t for t in _tables(at) if "Feature" in t.columns)
    assert set(by_feature["Feature"]) == {"Ask", "Batch", "Single run"}
    assert len(at.get("plotly_chart")) == 1 and "highest for" in all_text(at)


def test_others_see_only_their_own_and_their_budget(people: UserView) -> None:
    at = _usage("ann")
    assert "You see your own" in all_text(at)
    assert at.metric[0].value == "2"
    assert not at.selectbox  # no person picker
    assert "no monthly Claude budget" in all_text(at)


def test_an_admin_sets_a_budget_the_person_sees_what_is_left(people: UserView) -> None:
    at = _usage("ada")
    form_person = next(s for s in at.selectbox if s.label == "Person" and s.key is None)
    form_person.select("ann")
    next(n for n in at.number_input if n.label.startswith("Monthly budget in US$")).set_value(2.0)
    button(at, "Save budget").click().run()
    assert not at.exception, at.exception
    assert usage.get_budget("ann").monthly_cost == 2.0
    assert "Budget for ann saved" in all_text(at)
    budgets = next(t for t in _tables(at) if "Budget (US$)" in t.columns)
    assert budgets.set_index("Person").loc["ann", "Budget (US$)"] == "2.00"  # not "no limit"
    at = _usage("ann")
    assert "$1.25" in [m.value for m in at.metric]


def test_viewers_see_an_empty_state(people: UserView) -> None:
    at = _usage("vic")
    assert "No Claude calls in this period" in all_text(at)


def test_home_shows_my_month(people: UserView) -> None:
    at = sign_in("ann")
    assert not at.exception, at.exception
    values = {m.label: m.value for m in at.metric}
    assert values["Claude spend"] == "$0.75" and values["Items"] == "0"


def test_a_budget_set_elsewhere_shows_at_once(people: UserView) -> None:
    at = _usage("ada")
    budgets = next(t for t in _tables(at) if "Budget (US$)" in t.columns)
    assert budgets.set_index("Person").loc["ann", "Budget (tokens)"] == "no limit"
    usage.set_budget(people, usage.BudgetChange(username="ann", monthly_tokens=9000))
    make_user(people, "newcomer")  # e.g. through the API or another server
    at.run()
    budgets = next(t for t in _tables(at) if "Budget (US$)" in t.columns)
    assert budgets.set_index("Person").loc["ann", "Budget (tokens)"] == "9,000"
    assert "newcomer" in at.selectbox(key="usage_person").options
