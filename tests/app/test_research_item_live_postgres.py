"""AppTest (issue 21): a research item with a chart from a live dataset shows the chart from
the numbers saved with it and says where they were read and when; its dataset is listed
where it lives, with no version."""


from services.charts.spec import ChartSpec
from services.data import datasets, live_datasets
from services.research import items
from services.research.items import ItemInput
from services.sources import door
from tests.app.helpers import all_text, as_read, open_page, sign_in
from tests.factories import make_admin
from tests.live_source import LiveSource, add_reader_source
from tests.unit.reports.test_live_item_exports_postgres import save_live_chart


def test_an_item_with_a_live_chart_says_where_its_numbers_were_read(live: LiveSource) -> None:
    admin = make_admin()
    source = add_reader_source(admin, live)
    dataset = live_datasets.create_live_dataset(admin, source.id, "public", "penguins")
    datasets.set_shared(admin, dataset.id, True)
    item = items.create_item(admin, ItemInput(title="Live penguins", visibility="shared"))
    save_live_chart(admin, item.id, dataset.id, ChartSpec(
        chart_type="bar", x="species", y="bill_length_mm", agg="mean"), "Bills by species")
    door.dispose_engines()
    at = sign_in("ada")
    at.query_params["id"] = str(item.id)
    open_page(at, "pages/research_item.py")
    assert not at.exception
    text = all_text(at)
    assert "penguins, from public.penguins in warehouse, read " in text
    links = [as_read(link.proto.label) for link in at.get("page_link")]
    assert "penguins · public.penguins in warehouse · 1 chart or answer" in links
    assert "version 0" not in text + " ".join(links) and "deleted" not in text
    assert len(at.get("plotly_chart")) == 1
