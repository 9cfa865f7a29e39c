"""Downloads named in any script: the API's exports and the item page's download buttons
of an item called “Umsatz Übersicht 研究 ☃” (RFC 6266 `filename*`, ASCII `filename`)."""

import asyncio
from urllib.parse import unquote

import httpx
import pandas as pd
from starlette.applications import Starlette

from services.api.downloads import content_disposition
from services.reports import item_export
from services.reports.bundle import slug
from services.research.saved_insights import NewInsight, save_insight
from tests.unit.api.conftest import Api, People

TITLE = "Umsatz Übersicht 研究 ☃"


def _names(header: str) -> tuple[str, str]:
    """The ASCII `filename` and the decoded `filename*` of a Content-Disposition header."""
    parts = dict(p.strip().split("=", 1) for p in header.split(";")[1:])
    assert parts["filename*"].startswith("UTF-8''")
    return parts["filename"].strip('"'), unquote(parts["filename*"][len("UTF-8''"):])


def test_every_export_of_a_unicode_title_downloads(api: Api, people: People) -> None:
    token = people.token(people.analyst)
    item = api.post("/v1/research-items", token=token, json={"title": TITLE}).json()
    save_insight(people.analyst, NewInsight(item_id=item["id"], kind="answer", title=TITLE,
                                            summary="Umsatz steigt", spec={}),
                 pd.DataFrame({"Monat": ["Jän", "Feb"], "Umsatz": [1.0, 2.0]}))
    for kind, suffix in (("html", "html"), ("markdown", "md.zip"), ("notebook", "ipynb.zip")):
        response = api.get(f"/v1/research-items/{item['id']}/export?format={kind}", token=token)
        assert response.status_code == 200, (kind, response.text)
        plain, exact = _names(response.headers["content-disposition"])
        assert exact == f"{slug(TITLE)}.{suffix}" == f"umsatz-übersicht-研究.{suffix}"
        assert plain == f"umsatz-ubersicht.{suffix}" and plain.isascii()


def test_the_header_cannot_be_broken_out_of() -> None:
    header = content_disposition('a"b\\c;\r\nSet-Cookie: x=1.csv')
    assert "\r" not in header and "\n" not in header
    plain, exact = _names(header)
    assert exact == 'a"b\\c;\r\nSet-Cookie: x=1.csv'
    assert '"' not in plain and "\\" not in plain and ";" not in plain
    assert _names(content_disposition("研究.md.zip"))[0] == "download.md.zip"
    assert _names(content_disposition("batch-3-results.csv")) == ("batch-3-results.csv",) * 2


def test_the_item_pages_download_buttons_name_the_file() -> None:
    """The page's buttons hand Streamlit the title as a file name; Streamlit's own media
    route must send it as a header browsers read."""
    from streamlit.runtime.media_file_storage import MediaFileKind
    from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
    from streamlit.web.server.starlette.starlette_routes import create_media_routes

    storage = MemoryMediaFileStorage("/media")
    stem = item_export.file_stem(TITLE)
    wanted = {f"{stem}.html": "text/html", f"{stem}-markdown.zip": "application/zip",
              f"{stem}-notebook.zip": "application/zip"}
    urls = {name: storage.get_url(storage.load_and_get_id(
        name.encode(), mime, MediaFileKind.DOWNLOADABLE, name)) for name, mime in wanted.items()}
    app = Starlette(routes=create_media_routes(storage, None))

    async def get(url: str) -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://testserver") as client:
            return await client.get(url)

    for name, url in urls.items():
        response = asyncio.run(get(url))
        assert response.status_code == 200, response.text
        header = response.headers["content-disposition"]
        assert unquote(header.split("filename*=utf-8''", 1)[1]) == name
