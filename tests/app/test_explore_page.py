"""AppTest: the Explore page for every role, chart types, filters, links and stale links."""

import pytest
from streamlit.testing.v1 import AppTest

from services.access.permissions import Role
from services.access.users import UserView
from services.charts.spec import ChartSpec, Filter, spec_to_query_params
from services.data import datasets
from services.data.datasets import DatasetView
from tests.app.helpers import all_text, as_read, open_page, sign_in
from tests.factories import make_admin, make_user

PAGE = "pages/explore.py"


@pytest.fixture
def admin() -> UserView:
    return make_admin()


@pytest.fixture
def tips(admin: UserView) -> DatasetView:
    sample = datasets.create_from_sample(admin, "tips")
    datasets.set_shared(admin, sample.id, True)  # analysts and viewers see it too
    return sample


def _explore(username: str, params: dict[str, str] | None = None) -> AppTest:
    at = sign_in(username)
    at.query_params.update(params or {})
    open_page(at, PAGE)
    assert not at.exception, at.exception
    return at


def _figure(at: AppTest) -> dict:
    charts = [e for e in at.get("plotly_chart")]
    assert charts, "no chart on the page"
    import json

    return json.loads(charts[0].proto.spec)


@pytest.mark.parametrize("role", list(Role))
def test_every_role_sees_a_chart_at_once(admin: UserView, tips: DatasetView, role: Role) -> None:
    username = "ada" if role == Role.ADMIN else f"{role.value}1"
    if role != Role.ADMIN:
        make_user(admin, username, role)
    at = _explore(username)
    figure = _figure(at)
    assert figure["layout"]["title"]["text"] == "Mean of total_bill by sex"
    text = all_text(at)
    assert "Bar chart of" in text  # the one-sentence summary caption
    assert "244" in text  # rows in the chart
    saves = [p for p in at.get("popover") if "Save to research item" in str(p.proto)]
    assert bool(saves) == (role != Role.VIEWER)
    assert at.query_params["chart"] == ["bar"] or at.query_params["chart"] == "bar"


def test_changing_the_chart_type_updates_the_chart(tips: DatasetView) -> None:
    at = _explore("ada")
    at.selectbox(key="explore_chart").select("histogram").run()
    assert not at.exception, at.exception
    figure = _figure(at)
    assert figure["layout"]["title"]["text"] == "Distribution of total_bill"
    assert "Histogram of total_bill" in all_text(at)
    at.selectbox(key="explore_chart").select("scatter").run()
    assert _figure(at)["layout"]["title"]["text"] == "tip against total_bill"


def _axis_types(at: AppTest) -> tuple[str | None, str | None]:
    layout = _figure(at)["layout"]
    return layout.get("xaxis", {}).get("type"), layout.get("yaxis", {}).get("type")


def test_each_axis_has_its_own_log_switch_named_by_its_column(tips: DatasetView) -> None:
    """The quality report calls a column lopsided; the switch that logs it is named by that
    column and logs that column's axis, x or y (issue 19.4)."""
    spec = ChartSpec(chart_type="scatter", x="total_bill", y="tip")
    at = _explore("ada", {"dataset": str(tips.id), "version": "1",
                          **spec_to_query_params(spec)})
    switches = {as_read(t.label): t for t in at.toggle}
    assert {"Log scale: total_bill", "Log scale: tip"} <= set(switches)
    assert "log" not in _axis_types(at)
    switches["Log scale: total_bill"].set_value(True).run()
    assert not at.exception, at.exception
    assert _axis_types(at)[0] == "log" and _axis_types(at)[1] != "log"
    assert at.query_params["logx"] in ("1", ["1"])
    at.toggle(key="explore_logx").set_value(False).run()
    at.toggle(key="explore_log").set_value(True).run()
    assert _axis_types(at)[0] != "log" and _axis_types(at)[1] == "log"
    at.selectbox(key="explore_chart").select("bar").run()  # categories along x: no x switch
    labels = [t.label for t in at.toggle]
    assert not any("total" in label for label in labels)
    assert any(label.startswith("Log scale: ") for label in labels)


def test_a_filter_reduces_the_row_count_and_its_chip_removes_it(tips: DatasetView) -> None:
    at = _explore("ada")
    at.selectbox(key="explore_f_column").select("day").run()
    at.multiselect(key="explore_f_values_day").select("Sun").run()
    at.button(key="explore_f_add").click().run()
    assert not at.exception, at.exception
    text = all_text(at)
    assert "**76** of 244 rows" in text
    chips = at.get("button_group")
    assert chips and "day: Sun" in as_read(str(chips[0].proto.options[0].content))
    assert "Sun" in at.query_params["filters"][0] if isinstance(
        at.query_params["filters"], list) else "Sun" in at.query_params["filters"]
    at.session_state["explore_chips"] = 0
    at.session_state["explore_filters"] = []
    at.run()
    assert "**244** rows" in all_text(at)


def test_a_link_restores_its_chart(tips: DatasetView) -> None:
    spec = ChartSpec(chart_type="box", x="day", y="tip",
                     filters=[Filter(column="smoker", op="in", value=["Yes"])])
    at = _explore("ada", {"dataset": str(tips.id), "version": "1",
                          **spec_to_query_params(spec)})
    assert at.selectbox(key="explore_chart").value == "box"
    assert at.selectbox(key="explore_x").value == "day"
    assert _figure(at)["layout"]["title"]["text"] == "tip by day"
    assert "**93** of 244 rows" in all_text(at)


def test_a_stale_link_says_so_and_resets(tips: DatasetView) -> None:
    spec = ChartSpec(chart_type="bar", x="no such column")
    at = _explore("ada", {"dataset": str(tips.id), **spec_to_query_params(spec)})
    warning = " ".join(w.value for w in at.warning)
    assert "This chart link no longer works" in warning and "no such column" in warning
    assert not at.get("plotly_chart")
    at.button(key="explore_reset").click().run()
    assert not at.exception, at.exception
    assert not at.warning
    assert _figure(at)["layout"]["title"]["text"] == "Mean of total_bill by sex"


def test_a_link_to_a_deleted_dataset_says_so(admin: UserView, tips: DatasetView) -> None:
    at = _explore("ada", {"dataset": "999", "chart": "bar", "x": "day"})
    assert "deleted or is not shared" in " ".join(w.value for w in at.warning)
    at.button(key="explore_reset").click().run()
    assert not at.warning and _figure(at)


def test_without_datasets_the_page_says_what_to_do(admin: UserView) -> None:
    at = _explore("ada")
    assert "There is no dataset to explore yet" in all_text(at)


def test_share_this_chart_gives_a_link_that_opens_the_same_chart(tips: DatasetView) -> None:
    """Issue 19.10: sharing a chart meant copying the browser's address."""
    from urllib.parse import parse_qsl, urlsplit

    at = _explore("ada")
    at.selectbox(key="explore_f_column").select("day").run()
    at.multiselect(key="explore_f_values_day").select("Sun").run()
    at.button(key="explore_f_add").click().run()
    [link] = [str(c.value) for c in at.code if "dataset=" in str(c.value)]
    assert "Everyone who signs in to Research Desk can open it" in all_text(at)
    opened = _explore("ada", dict(parse_qsl(urlsplit(link).query)))
    assert _figure(opened)["layout"]["title"]["text"] == _figure(at)["layout"]["title"]["text"]
    assert "**76** of 244 rows" in all_text(opened)


def test_sharing_a_chart_of_a_private_dataset_says_who_can_open_it(admin: UserView) -> None:
    private = datasets.create_from_sample(admin, "iris")
    at = _explore("ada", {"dataset": str(private.id)})
    assert "This dataset is private: colleagues who open the link are told it is not shared " \
           "with them." in all_text(at)
    at.button(key=f"explore_share_now_{private.id}").click().run()
    assert datasets.get_dataset(admin, private.id).is_shared
