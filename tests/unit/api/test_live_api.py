"""The REST API on live data (issue 21), against a real PostgreSQL source: sources for admins,
live datasets listed with where they live, their chart data computed in their database, and
a source that is down answered with 503 and one sentence."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import update

from services.data import datasets, live_datasets
from services.sources import door
from services.sources.catalog import SourceView
from services.store.db import session_scope
from services.store.models import DataSource, utcnow
from tests.live_source import SAMPLES, LiveSource, add_reader_source
from tests.postgres_server import _free_port
from tests.unit.api.conftest import Api, People, problem_of

SPEC = {"chart_type": "bar", "x": "species", "y": "body_mass_g", "agg": "mean"}


@pytest.fixture
def source(people: People, live: LiveSource) -> Iterator[SourceView]:
    yield add_reader_source(people.admin, live)
    door.dispose_engines()


def _live_penguins(people: People, source: SourceView, *, shared: bool = False) -> int:
    made = live_datasets.create_live_dataset(people.analyst, source.id, "public", "penguins",
                                             name="Penguins live")
    if shared:
        datasets.set_shared(people.analyst, made.id, True)
    return made.id


def test_admins_list_sources_with_where_they_are_and_never_a_password(
        api: Api, people: People, live: LiveSource, source: SourceView) -> None:
    response = api.get("/v1/sources", token=people.token(people.admin))
    assert response.status_code == 200, response.text
    assert response.json() == [{
        "id": source.id, "name": "warehouse",
        "where": f"{live.database} on 127.0.0.1:{live.server.port} as {live.reader}",
        "schemas": ["public"], "origin": "admin",
        "created_at": response.json()[0]["created_at"],
        "updated_at": response.json()[0]["updated_at"]}]
    assert live.reader_password not in response.text and "password" not in response.text
    for person in (people.analyst, people.viewer):
        detail = problem_of(api.get("/v1/sources", token=people.token(person)), 403)
        assert detail == ("Only admins can list the data sources; a live dataset says which "
                          "source and table it reads.")


def test_live_datasets_are_listed_with_where_they_live_and_no_versions(
        api: Api, people: People, source: SourceView, tmp_path: Path) -> None:
    live_id = _live_penguins(people, source)
    uploaded, _ = datasets.create_from_upload(people.analyst, SAMPLES / "penguins.csv",
                                              original_name="penguins.csv")
    token = people.token(people.analyst)
    listed = {d["id"]: d for d in api.get("/v1/datasets", token=token).json()["items"]}
    one = api.get(f"/v1/datasets/{live_id}", token=token).json()
    assert listed[live_id] == one
    assert one["live"] == {"source_id": source.id, "source_name": "warehouse",
                           "schema_name": "public", "table_name": "penguins", "read_at": None}
    assert [one[k] for k in ("current_version", "versions", "rows", "columns", "bytes")] == [
        None] * 5  # not zeros that read as an empty file
    assert listed[uploaded.id]["live"] is None and listed[uploaded.id]["current_version"] == 1
    assert api.get(f"/v1/datasets/{live_id}/versions", token=token).json() == []
    # profile and quality are computed in the database: the same as the uploaded copy's
    live_profile = api.get(f"/v1/datasets/{live_id}/profile", token=token).json()
    file_profile = api.get(f"/v1/datasets/{uploaded.id}/profile", token=token).json()
    assert live_profile["rows"] == file_profile["rows"] == 344
    assert [(c["name"], c["missing"], c["distinct"]) for c in live_profile["columns"]] == [
        (c["name"], c["missing"], c["distinct"]) for c in file_profile["columns"]]
    live_quality = api.get(f"/v1/datasets/{live_id}/quality", token=token).json()
    file_quality = api.get(f"/v1/datasets/{uploaded.id}/quality", token=token).json()
    assert live_quality["version"] is None
    assert [f["message"] for f in live_quality["findings"]] == [
        f["message"] for f in file_quality["findings"]]
    problem_of(api.get(f"/v1/datasets/{live_id}/profile?version=1", token=token), 422)
    refused = [api.get(f"/v1/datasets/{live_id}/versions/1/download", token=token),
               api.post(f"/v1/datasets/{live_id}/cleaning", token=token,
                        json={"steps": [{"kind": "drop_missing", "columns": ["sex"]}]})]
    for response in refused:
        detail = problem_of(response, 422)
        assert detail.startswith("“Penguins live” is a live dataset (public.penguins in "
                                 "warehouse)")


def test_chart_data_of_a_live_dataset_is_computed_in_its_database(
        api: Api, people: People, source: SourceView) -> None:
    live_id = _live_penguins(people, source, shared=True)
    uploaded, _ = datasets.create_from_upload(people.analyst, SAMPLES / "penguins.csv",
                                              original_name="penguins.csv")
    token = people.token(people.viewer)  # shared: a viewer charts it as the owner does
    datasets.set_shared(people.analyst, uploaded.id, True)
    from_db = api.post(f"/v1/datasets/{live_id}/chart-data", token=token, json={"spec": SPEC})
    assert from_db.status_code == 200, from_db.text
    from_file = api.post(f"/v1/datasets/{uploaded.id}/chart-data", token=token,
                         json={"spec": SPEC}).json()
    got = from_db.json()
    assert got["columns"] == from_file["columns"] and got["rows_in"] == 344
    label = got["labels"]["value"]
    assert [r["species"] for r in got["rows"]] == [r["species"] for r in from_file["rows"]]
    assert [r[label] for r in got["rows"]] == pytest.approx(
        [r[label] for r in from_file["rows"]], rel=1e-9)
    read = api.get(f"/v1/datasets/{live_id}", token=token).json()["live"]["read_at"]
    assert read is not None and read.endswith(("Z", "+00:00"))  # UTC, said so
    detail = problem_of(api.post(f"/v1/datasets/{live_id}/chart-data", token=token,
                                 json={"spec": SPEC, "version": 1}), 422)
    assert "live dataset has no versions" in detail


def test_chart_data_of_a_private_live_dataset_is_not_found_for_others(
        api: Api, people: People, source: SourceView) -> None:
    live_id = _live_penguins(people, source)
    response = api.post(f"/v1/datasets/{live_id}/chart-data",
                        token=people.token(people.other), json={"spec": SPEC})
    problem_of(response, 404)


def test_a_source_that_is_down_answers_503_with_one_sentence(
        api: Api, people: People, live: LiveSource, source: SourceView) -> None:
    live_id = _live_penguins(people, source)
    moved = live.url(live.reader).replace(f":{live.server.port}/", f":{_free_port()}/")
    with session_scope(write=True) as session:  # the database is gone from where it was
        session.execute(update(DataSource).where(DataSource.id == source.id)
                        .values(url=moved, updated_at=utcnow()))
    response = api.post(f"/v1/datasets/{live_id}/chart-data",
                        token=people.token(people.analyst), json={"spec": SPEC})
    detail = problem_of(response, 503)
    assert detail.startswith("The database server at 127.0.0.1:") and "cannot be reached" in detail
    assert live.reader_password not in response.text
    assert api.get(f"/v1/datasets/{live_id}", token=people.token(people.analyst)
                   ).json()["live"]["read_at"] is None  # nothing was read
