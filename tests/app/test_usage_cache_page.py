"""AppTest: the Usage page says in words what prompt caching read and saved this month, with
a table per feature (admins: everyone's; others: their own)."""

import pytest
from streamlit.testing.v1 import AppTest

from services.access.users import UserView
from services.claude import client as claude
from services.claude import usage
from services.claude.client import CallUsage
from tests.app.helpers import all_text, open_page, sign_in
from tests.factories import make_admin, make_user

PAGE = "pages/usage.py"
READ = "Cached prompt text read (tokens)"
SAVED = "Saved by caching (US$)"


def _call(user: str, feature: str, **tokens: int) -> None:
    call = CallUsage(user=user, feature=feature, model="claude-sonnet-4-6", input_tokens=1_000,
                     output_tokens=100, latency_ms=800, **tokens)
    call.cost_estimate = claude.estimate_cost(call.model, call)
    usage.record_usage(call)


@pytest.fixture
def people() -> UserView:
    admin = make_admin()
    make_user(admin, "ann")
    # $3 per million input tokens, $0.30 to read back: 1,000,000 read saves $2.70
    _call("ann", "ask.sql", cache_read_tokens=1_000_000)
    _call("ann", "prompt.batch", cache_read_tokens=200_000, cache_write_tokens=10_000)
    _call("ada", "prompt.enrich")
    return admin


def _usage(username: str) -> AppTest:
    at = open_page(sign_in(username), PAGE)
    assert not at.exception, at.exception
    return at


def _cache_table(at: AppTest):  # noqa: ANN202 - a pandas DataFrame
    return next(d.value for d in at.dataframe if READ in d.value.columns).set_index("Feature")


def test_admins_read_what_caching_saved_and_a_table_per_feature(people: UserView) -> None:
    at = _usage("ada")
    # (1,200,000 × 2.70 − 10,000 × 0.75) / 1,000,000 = $3.2325
    assert ("Cached prompt text read 1.2 million tokens this month and saved $3.23."
            in all_text(at))
    # these calls were recorded without Ask answers, so no written answer was checked
    assert "No answers from Ask had their numbers checked this month." in all_text(at)
    table = _cache_table(at)
    assert set(table.index) == {"Ask", "Batch", "Enrich"}
    assert table.loc["Ask", READ] == 1_000_000 and table.loc["Enrich", READ] == 0
    assert table.loc["Batch", "Prompt text stored in the cache (tokens)"] == 10_000
    assert table.loc["Ask", SAVED] == pytest.approx(2.7, abs=1e-4)
    assert table.loc["Batch", SAVED] == pytest.approx(0.5325, abs=1e-3)  # shown to 4 places
    assert table.loc["Ask", "Cost with cache prices (US$)"] == pytest.approx(
        (1_000 * 3 + 100 * 15 + 1_000_000 * 0.3) / 1e6, abs=1e-4)


def test_others_see_their_own_caching(people: UserView) -> None:
    at = _usage("ann")
    assert "saved $3.23" in all_text(at)
    assert set(_cache_table(at).index) == {"Ask", "Batch"}
