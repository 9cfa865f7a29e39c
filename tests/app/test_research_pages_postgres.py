"""AppTest: the Research list (its tag filter lists tags with DISTINCT over JSON) and an
item's page, on PostgreSQL."""

from tests.app.helpers import all_text, open_page, sign_in
from tests.app.test_research_pages import _shared_item
from tests.factories import make_admin


def test_research_pages_on_postgres(postgres_url: str) -> None:
    make_admin()
    item_id = _shared_item()
    at = open_page(sign_in("ada"), "pages/research.py")
    assert not at.exception
    assert "1–1 of 1 item" in all_text(at)
    at.selectbox(key="research_tag").select("tips").run()
    assert not at.exception and "1–1 of 1 item" in all_text(at)
    at.query_params["id"] = str(item_id)
    open_page(at, "pages/research_item.py")
    assert not at.exception
    assert "Sunday has the biggest tips." in all_text(at)
