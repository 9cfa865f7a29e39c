"""An Excel shared-strings bomb sent to the API is refused in one sentence by the bounded
child that reads it; the server's memory stays flat (issue 18.11)."""

from pathlib import Path

import pytest

from services.data import datasets
from tests.unit.api.conftest import Api, People, problem_of
from tests.unit.api.test_datasets_api import _uploads_left
from tests.unit.bounded_reading import (
    REFUSED,
    peak_growth_mb,
    readers_left,
    set_read_limits,
    shared_strings_bomb,
)


def test_a_shared_strings_bomb_is_refused_and_the_server_stays_flat(
        api: Api, people: People, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    set_read_limits(monkeypatch, 32, 60)
    bomb = shared_strings_bomb(tmp_path / "bomb.xlsx")
    assert bomb.stat().st_size < 1 << 20

    def upload() -> str:
        with bomb.open("rb") as handle:
            response = api.post("/v1/datasets", token=people.token(people.analyst),
                                files={"file": ("bomb.xlsx", handle)})
        return problem_of(response, 413)

    detail, grown = peak_growth_mb(upload)
    assert detail.startswith(REFUSED) and detail.endswith("save it as CSV or split it.")
    assert "32 MB" in detail or "60 seconds" in detail
    assert grown < 50, f"the server grew by {grown:.0f} MB"
    assert _uploads_left() == [] and datasets.list_datasets(people.analyst) == []
    assert readers_left() == []
