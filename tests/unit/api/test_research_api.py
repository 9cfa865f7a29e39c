"""/v1/research-items through the research service: every role, paging, search, exports."""

import io
import zipfile

import pandas as pd

from services.research.saved_insights import NewInsight, save_insight
from tests.unit.api.conftest import Api, People, problem_of

SQLISH = "x'); DROP TABLE research_items; --"


def _create(api: Api, token: str, **fields: object) -> dict:
    response = api.post("/v1/research-items", token=token, json={"title": "Returns", **fields})
    assert response.status_code == 201, response.text
    return response.json()


def test_create_read_update_delete(api: Api, people: People) -> None:
    token = people.token(people.analyst)
    refused = api.post("/v1/research-items", token=token, json={"title": "t", "tags": [SQLISH]})
    assert "cannot hold" in problem_of(refused, 422)
    assert api.get("/v1/research-items", token=token).json()["total"] == 0
    item = _create(api, token, title=SQLISH, tags=["q1", "drop table"], description=SQLISH)
    assert item["title"] == SQLISH and item["owner"] == "bob" and item["can_edit"]
    assert item["created_at"].endswith(("Z", "+00:00"))  # RFC 3339, UTC
    url = f"/v1/research-items/{item['id']}"
    assert api.get(url, token=token).json()["description"] == SQLISH
    changed = api.request("PATCH", url, token=token, json={"status": "done"})
    assert changed.status_code == 200, changed.text
    assert changed.json()["status"] == "done" and changed.json()["title"] == SQLISH
    gone = api.request("DELETE", url, token=token)
    assert gone.status_code == 200 and "cannot be undone" in gone.json()["detail"]
    problem_of(api.get(url, token=token), 404)


def test_list_filters_search_and_pages_with_total(api: Api, people: People) -> None:
    token = people.token(people.analyst)
    for n in range(7):
        _create(api, token, title=f"Item {n}", status="active" if n % 2 else "idea",
                tags=["odd"] if n % 2 else [])
    everything = api.get("/v1/research-items?limit=3&offset=2&sort=title", token=token).json()
    assert everything["total"] == 7 and [i["title"] for i in everything["items"]] == [
        "Item 2", "Item 3", "Item 4"]
    active = api.get("/v1/research-items?status=active", token=token).json()
    assert active["total"] == 3 and {i["status"] for i in active["items"]} == {"active"}
    assert api.get("/v1/research-items?tag=odd", token=token).json()["total"] == 3
    assert api.get("/v1/research-items?q=item%205", token=token).json()["total"] == 1
    assert api.get(f"/v1/research-items?q={SQLISH}", token=token).json()["total"] == 0
    past = api.get("/v1/research-items?offset=100", token=token).json()
    assert past["total"] == 7 and past["items"] == []
    problem_of(api.get("/v1/research-items?limit=1000000000", token=token), 422)
    problem_of(api.get("/v1/research-items?status=deleted", token=token), 422)


def test_private_items_are_not_found_and_viewers_only_read(api: Api, people: People) -> None:
    private = _create(api, people.token(people.other), title="Eve's")
    shared = _create(api, people.token(people.other), title="Shared", visibility="shared")
    bob = people.token(people.analyst)
    missing = problem_of(api.get("/v1/research-items/999999", token=bob), 404)
    url = f"/v1/research-items/{private['id']}"
    assert problem_of(api.get(url, token=bob), 404) == missing
    problem_of(api.request("PATCH", url, token=bob, json={"title": "mine now"}), 404)
    problem_of(api.request("DELETE", url, token=bob), 404)
    problem_of(api.get(f"{url}/insights", token=bob), 404)
    problem_of(api.get(f"{url}/export", token=bob), 404)
    assert api.get("/v1/research-items", token=bob).json()["total"] == 1

    viewer = people.token(people.viewer)
    shared_url = f"/v1/research-items/{shared['id']}"
    assert api.get(shared_url, token=viewer).status_code == 200
    problem_of(api.post("/v1/research-items", token=viewer, json={"title": "x"}), 403)
    problem_of(api.request("PATCH", shared_url, token=viewer, json={"title": "x"}), 403)
    problem_of(api.request("DELETE", shared_url, token=viewer), 403)
    assert api.get(shared_url, token=viewer).json()["title"] == "Shared"


def test_unknown_fields_and_bad_values_are_422(api: Api, people: People) -> None:
    token = people.token(people.analyst)
    item = _create(api, token)
    url = f"/v1/research-items/{item['id']}"
    assert "“owner” is not a field" in problem_of(
        api.request("PATCH", url, token=token, json={"owner": "eve"}), 422)
    problem_of(api.post("/v1/research-items", token=token, json={"title": ""}), 422)
    problem_of(api.post("/v1/research-items", token=token,
                        json={"title": "x", "visibility": "public"}), 422)
    assert api.get(url, token=token).json()["owner"] == "bob"


def test_insights_and_exports(api: Api, people: People) -> None:
    token = people.token(people.analyst)
    item = _create(api, token, title="Penguin mass")
    frame = pd.DataFrame({"species": ["Adelie", "Gentoo"], "mass": [3700.0, 5076.0]})
    save_insight(people.analyst, NewInsight(item_id=item["id"], kind="answer",
                                            title="Mass by species", summary="Gentoo heaviest",
                                            spec={}), frame)
    url = f"/v1/research-items/{item['id']}"
    cards = api.get(f"{url}/insights", token=token).json()
    assert cards["total"] == 1 and cards["items"][0]["title"] == "Mass by species"
    assert cards["items"][0]["data_snapshot"][1]["mass"] == 5076.0
    html = api.get(f"{url}/export?format=html", token=token)
    assert html.status_code == 200 and "Mass by species" in html.text
    assert "penguin-mass" in html.headers["content-disposition"]
    for kind in ("markdown", "notebook"):
        packed = api.get(f"{url}/export?format={kind}", token=token)
        assert packed.status_code == 200, packed.text
        assert zipfile.ZipFile(io.BytesIO(packed.content)).namelist()
    problem_of(api.get(f"{url}/export?format=pdf", token=token), 422)
