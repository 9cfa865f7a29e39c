"""The API's item exports carry the same chart pictures as the item page's downloads."""

import html
import io
import re
import zipfile

from services.access import api_tokens
from services.access.users import get_user
from services.charts.chart_png import PNG_MAGIC
from services.reports import item_export
from services.reports.bundle import load_export
from services.reports.insight_figure import draw
from services.research import items
from services.research.items import ItemChanges
from tests.factories import make_user
from tests.unit.api.conftest import Api, problem_of
from tests.unit.reports.conftest import Story, story  # noqa: F401 - the fixture

IMG = re.compile(r'<img src="data:image/png;base64,[A-Za-z0-9+/=]+" alt="([^"]*)">')


def _alts(page: str) -> list[str]:
    return sorted(html.unescape(a) for a in IMG.findall(page))


def test_html_and_markdown_exports_have_a_picture_per_charted_insight(
        api: Api, story: Story) -> None:  # noqa: F811 - the fixture
    token = api_tokens.create_token(story.owner, "export").secret
    export = load_export(story.owner, story.item_id)
    charted = []
    for card in export.insights:
        drawn = draw(card)
        if drawn.figure is not None:
            charted.append(drawn.summary or card.title)
    assert len(charted) == 2  # the Explore chart and the Ask answer's chart

    page = api.get(f"/v1/research-items/{story.item_id}/export?format=html", token=token)
    assert page.status_code == 200, page.text
    assert _alts(page.text) == sorted(charted) and all(charted)
    assert "The picture of this chart is not included" not in page.text
    # the same pictures as the item page's download button
    assert _alts(item_export.html_bytes(story.owner, story.item_id).decode()) == sorted(charted)

    zipped = api.get(f"/v1/research-items/{story.item_id}/export?format=markdown",
                     token=token)
    assert zipped.status_code == 200
    assert zipped.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(zipped.content))
    pngs = [n for n in archive.namelist() if n.startswith("images/") and n.endswith(".png")]
    assert len(pngs) == 2
    assert all(archive.read(n).startswith(PNG_MAGIC) for n in pngs)
    report = archive.read("report.md").decode()
    assert all(f"]({n})" in report for n in pngs)


def test_a_hidden_item_export_is_a_404_like_a_missing_one(
        api: Api, story: Story) -> None:  # noqa: F811 - the fixture
    admin = get_user("ada")
    assert admin is not None
    token = api_tokens.create_token(make_user(admin, "zed"), "export").secret
    items.update_item(story.owner, story.item_id, ItemChanges(visibility="private"))
    hidden = problem_of(api.get(f"/v1/research-items/{story.item_id}/export", token=token),
                        404)
    assert hidden == problem_of(api.get("/v1/research-items/99999/export", token=token), 404)
