"""/v1/datasets for every role: the same rules as the pages, through the same services."""

import io
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from services.data import datasets
from services.settings import get_settings, reset_settings_cache
from tests.unit.api.conftest import CSV, Api, People, problem_of, upload_csv

SQLISH = "x'); DROP TABLE datasets; --"


def _upload(api: Api, token: str, text: str = CSV, name: str = "penguins.csv",
            fields: dict[str, str] | None = None):  # noqa: ANN202
    files = {"file": (name, io.BytesIO(text.encode()), "text/csv")}
    return api.post("/v1/datasets", token=token, files=files, data=fields or {})


def _uploads_left() -> list[Path]:
    root = get_settings().uploads_dir
    return [p for p in root.rglob("*") if p.is_file()] if root.is_dir() else []


def test_an_analyst_uploads_lists_and_reads_a_dataset(api: Api, people: People) -> None:
    token = people.token(people.analyst)
    response = _upload(api, token, fields={"name": SQLISH})
    assert response.status_code == 201, response.text
    dataset = response.json()["dataset"]
    assert dataset["name"] == SQLISH and dataset["rows"] == 3 and dataset["owner"] == "bob"
    assert _uploads_left() == []  # the upload was read and removed, as in the UI
    listed = api.get("/v1/datasets", token=token).json()
    assert listed["total"] == 1 and listed["items"][0]["id"] == dataset["id"]
    one = api.get(f"/v1/datasets/{dataset['id']}", token=token).json()
    assert one["current_version"] == 1
    versions = api.get(f"/v1/datasets/{dataset['id']}/versions", token=token).json()
    assert [v["version"] for v in versions] == [1]
    assert "parquet_path" not in versions[0] and "/" not in versions[0]["source"].split(":")[0]


def test_profile_quality_and_chart_data(api: Api, people: People, tmp_path: Path) -> None:
    dataset_id = upload_csv(people.analyst, tmp_path)
    token = people.token(people.analyst)
    profile = api.get(f"/v1/datasets/{dataset_id}/profile", token=token).json()
    assert profile["rows"] == 3 and [c["name"] for c in profile["columns"]] == [
        "species", "island", "mass"]
    quality = api.get(f"/v1/datasets/{dataset_id}/quality", token=token)
    assert quality.status_code == 200 and quality.json()["version"] == 1
    spec = {"chart_type": "bar", "x": "species", "y": "mass", "agg": "sum"}
    chart = api.post(f"/v1/datasets/{dataset_id}/chart-data", token=token, json={"spec": spec})
    assert chart.status_code == 200, chart.text
    body = chart.json()
    assert body["rows_in"] == 3 and body["mark_count"] == 2
    assert body["columns"] == ["species", "Rows", "Sum of mass"]
    totals = {row["species"]: row["Sum of mass"] for row in body["rows"]}
    assert totals == {"Adelie": 7550, "Gentoo": 5000}


def test_chart_data_refuses_unknown_columns_and_fields(api: Api, people: People,
                                                       tmp_path: Path) -> None:
    dataset_id = upload_csv(people.analyst, tmp_path)
    token = people.token(people.analyst)
    url = f"/v1/datasets/{dataset_id}/chart-data"
    problem_of(api.post(url, token=token, json={"spec": {"x": SQLISH}}), 422)
    detail = problem_of(api.post(url, token=token, json={"spec": {"x": "species"},
                                                         "drop": True}), 422)
    assert "“drop” is not a field" in detail
    problem_of(api.post(url, token=token, json={"spec": {"x": "species", "colour": "x"}}), 422)


def test_download_csv_and_parquet_stream_the_version(api: Api, people: People,
                                                     tmp_path: Path) -> None:
    dataset_id = upload_csv(people.analyst, tmp_path,
                            text="name,formula\nann,=1+1\nbob,plain\n")
    token = people.token(people.viewer)  # shared below: a viewer may read
    datasets.set_shared(people.analyst, dataset_id, True)
    csv = api.get(f"/v1/datasets/{dataset_id}/versions/1/download?format=csv", token=token)
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert csv.text.splitlines() == ["name,formula", "ann,'=1+1", "bob,plain"]
    parquet = api.get(f"/v1/datasets/{dataset_id}/versions/1/download?format=parquet",
                      token=token)
    assert parquet.status_code == 200
    assert pq.read_table(io.BytesIO(parquet.content)).num_rows == 2
    problem_of(api.get(f"/v1/datasets/{dataset_id}/versions/9/download", token=token), 404)
    problem_of(api.get(f"/v1/datasets/{dataset_id}/versions/1/download?format=xlsx",
                       token=token), 422)
    assert not list((get_settings().data_dir / "tmp").glob("*/export.csv"))


def test_cleaning_makes_a_new_version_for_the_owner_only(api: Api, people: People,
                                                         tmp_path: Path) -> None:
    dataset_id = upload_csv(people.analyst, tmp_path,
                            text="species,mass\nAdelie,3750\nGentoo,\nAdelie,3800\n")
    datasets.set_shared(people.analyst, dataset_id, True)
    recipe = {"steps": [{"kind": "drop_missing", "columns": ["mass"]}]}
    url = f"/v1/datasets/{dataset_id}/cleaning"
    problem_of(api.post(url, token=people.token(people.viewer), json=recipe), 403)
    problem_of(api.post(url, token=people.token(people.other), json=recipe), 403)
    created = api.post(url, token=people.token(people.analyst), json=recipe)
    assert created.status_code == 201, created.text
    assert created.json()["version"] == 2 and created.json()["rows"] == 2
    problem_of(api.post(url, token=people.token(people.analyst), json={"steps": []}), 422)
    problem_of(api.post(url, token=people.token(people.analyst),
                        json={"steps": [{"kind": "drop_missing", "columns": [SQLISH]}]}), 422)
    assert datasets.get_dataset(people.analyst, dataset_id).current_version == 2


def test_a_viewer_cannot_write_anywhere(api: Api, people: People, tmp_path: Path) -> None:
    dataset_id = upload_csv(people.analyst, tmp_path)
    datasets.set_shared(people.analyst, dataset_id, True)
    token = people.token(people.viewer)
    assert "role" in problem_of(_upload(api, token), 403)
    problem_of(api.post(f"/v1/datasets/{dataset_id}/cleaning", token=token,
                        json={"steps": [{"kind": "drop_duplicates"}]}), 403)
    problem_of(api.post("/v1/ask", token=token,
                        json={"question": "how many?", "dataset_ids": [dataset_id]}), 403)
    assert api.get(f"/v1/datasets/{dataset_id}/profile", token=token).status_code == 200
    assert len(datasets.list_datasets(people.admin)) == 1
    assert _uploads_left() == []


def test_other_peoples_private_datasets_are_not_found(api: Api, people: People,
                                                      tmp_path: Path) -> None:
    private = upload_csv(people.other, tmp_path)
    token = people.token(people.analyst)
    missing = problem_of(api.get("/v1/datasets/99999", token=token), 404)
    for url in (f"/v1/datasets/{private}", f"/v1/datasets/{private}/versions",
                f"/v1/datasets/{private}/profile", f"/v1/datasets/{private}/quality",
                f"/v1/datasets/{private}/versions/1/download"):
        assert problem_of(api.get(url, token=token), 404) == missing  # never tells which
    problem_of(api.post(f"/v1/datasets/{private}/chart-data", token=token,
                        json={"spec": {"x": "species"}}), 404)
    problem_of(api.post(f"/v1/datasets/{private}/cleaning", token=token,
                        json={"steps": [{"kind": "drop_duplicates"}]}), 404)
    assert api.get("/v1/datasets", token=token).json()["total"] == 0


@pytest.mark.parametrize("query", ["limit=1000000000", "limit=0", "offset=-1", "limit=abc"])
def test_out_of_range_paging_is_422(api: Api, people: People, query: str) -> None:
    problem_of(api.get(f"/v1/datasets?{query}", token=people.token(people.analyst)), 422)


def test_paging_counts_every_match(api: Api, people: People, tmp_path: Path) -> None:
    for n in range(3):
        upload_csv(people.analyst, tmp_path, name=f"d{n}")
    page = api.get("/v1/datasets?limit=2&offset=1", token=people.token(people.analyst)).json()
    assert page["total"] == 3 and len(page["items"]) == 2 and page["offset"] == 1


def test_an_upload_over_the_limit_is_refused_early_leaving_nothing(
        api: Api, people: People, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RESEARCH_DESK_UPLOAD_LIMIT_MB", "1")
    reset_settings_cache()
    token = people.token(people.analyst)
    big = "a,b\n" + "1,2\n" * 400_000  # 1.6 MB
    detail = problem_of(_upload(api, token, text=big), 413)
    assert "over the upload limit of 1 MB" in detail
    assert _uploads_left() == [] and datasets.list_datasets(people.analyst) == []
    # without a Content-Length, the stream is counted as it arrives
    boundary = "xyz"
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
            f"filename=\"big.csv\"\r\nContent-Type: text/csv\r\n\r\n").encode()

    async def chunks():  # noqa: ANN202
        yield head
        for _ in range(40):
            yield b"1,2\n" * 16_384
        yield f"\r\n--{boundary}--\r\n".encode()

    response = api.post("/v1/datasets", token=token, content=chunks(),
                        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    problem_of(response, 413)
    assert _uploads_left() == []


def test_a_truncated_or_odd_upload_changes_nothing(api: Api, people: People) -> None:
    token = people.token(people.analyst)
    body = (b"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x.csv\"\r\n\r\n"
            b"a,b\n1,2\n")  # no closing boundary
    response = api.post("/v1/datasets", token=token, content=body,
                        headers={"Content-Type": "multipart/form-data; boundary=b"})
    assert "cut off" in problem_of(response, 422)
    problem_of(_upload(api, token, name="evil.exe"), 422)
    problem_of(api.post("/v1/datasets", token=token, json={"file": "a,b"}), 422)
    no_file = api.post("/v1/datasets", token=token, data={"name": "x"},
                       files={"other": ("x.csv", b"a\n1\n")})
    assert "no file" in problem_of(no_file, 422)
    assert _uploads_left() == [] and datasets.list_datasets(people.analyst) == []


def test_deeply_nested_json_and_sql_text_are_refused_politely(api: Api, people: People,
                                                              tmp_path: Path) -> None:
    dataset_id = upload_csv(people.analyst, tmp_path)
    token = people.token(people.analyst)
    nested = "[" * 10_000 + "]" * 10_000
    response = api.post(f"/v1/datasets/{dataset_id}/chart-data", token=token, content=nested,
                        headers={"Content-Type": "application/json"})
    problem_of(response, 422)
    deep = '{"spec": ' + '{"x": ' * 10_000 + '"a"' + "}" * 10_000 + "}"
    response = api.post(f"/v1/datasets/{dataset_id}/chart-data", token=token, content=deep,
                        headers={"Content-Type": "application/json"})
    problem_of(response, 422)
    for field in ("x", "y", "color", "facet"):
        spec = {"chart_type": "bar", "x": "species", field: SQLISH}
        problem_of(api.post(f"/v1/datasets/{dataset_id}/chart-data", token=token,
                            json={"spec": spec}), 422)
    filters = [{"column": "species", "op": "eq", "value": SQLISH}]
    ok = api.post(f"/v1/datasets/{dataset_id}/chart-data", token=token,
                  json={"spec": {"chart_type": "bar", "x": "species", "filters": filters}})
    assert ok.status_code == 200, ok.text
    assert ok.json()["rows"] == []
    assert datasets.get_dataset(people.analyst, dataset_id).rows == 3


def test_a_json_body_over_one_megabyte_is_refused_unread(api: Api, people: People,
                                                         tmp_path: Path) -> None:
    dataset_id = upload_csv(people.analyst, tmp_path)
    body = '{"spec": {"x": "' + "a" * 1_100_000 + '"}}'
    response = api.post(f"/v1/datasets/{dataset_id}/chart-data",
                        token=people.token(people.analyst), content=body,
                        headers={"Content-Type": "application/json"})
    assert "over 1 MB" in problem_of(response, 413)


def test_two_files_or_a_long_name_are_refused_leaving_nothing(api: Api, people: People) -> None:
    token = people.token(people.analyst)
    two = [("file", ("a.csv", b"a\n1\n", "text/csv")), ("file", ("b.csv", b"b\n2\n", "text/csv"))]
    assert "one file" in problem_of(api.post("/v1/datasets", token=token, files=two), 422)
    long_name = _upload(api, token, fields={"name": "n" * 5000})
    assert "too long" in problem_of(long_name, 422)
    assert _uploads_left() == [] and datasets.list_datasets(people.analyst) == []
