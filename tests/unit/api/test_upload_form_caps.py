"""An upload's form fields are capped in count and size: a flood is refused with 413 after
its first kilobytes, before it can pile up in the server's memory (issue 18.10)."""

from collections.abc import AsyncIterator, Iterator

import psutil

from services.api import upload_stream
from services.data import datasets
from tests.unit.api.conftest import Api, People, problem_of
from tests.unit.api.test_datasets_api import _uploads_left

BOUNDARY = "cap-test"
FLOOD_BYTES = 16 << 20  # the old code read every byte of it (and kept every field)
MULTIPART = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}


class Sent:
    """A request body produced as it is read, counting how much the server asked for."""

    def __init__(self, pieces: Iterator[bytes]) -> None:
        self.pieces = pieces
        self.bytes = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for piece in self.pieces:
            self.bytes += len(piece)
            yield piece


def _field(name: str, value: bytes) -> bytes:
    return (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n"
            ).encode() + value + b"\r\n"


def _many_small_fields() -> Iterator[bytes]:
    sent, number = 0, 0
    while sent < FLOOD_BYTES:
        chunk = b"".join(_field(f"f{number + i}", b"x" * 40) for i in range(500))
        number += 500
        sent += len(chunk)
        yield chunk
    yield f"--{BOUNDARY}--\r\n".encode()


def _one_huge_field() -> Iterator[bytes]:
    yield f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"notes\"\r\n\r\n".encode()
    for _ in range(FLOOD_BYTES // (64 << 10)):
        yield b"y" * (64 << 10)
    yield f"\r\n--{BOUNDARY}--\r\n".encode()


def _post(api: Api, people: People, body: Sent) -> tuple[str, int]:
    """The 413's sentence and how much the server's memory grew meanwhile (bytes)."""
    process = psutil.Process()
    before = process.memory_info().rss
    response = api.post("/v1/datasets", token=people.token(people.analyst), content=body,
                        headers=MULTIPART)
    grown = process.memory_info().rss - before
    return problem_of(response, 413), grown


def test_a_flood_of_small_fields_is_refused_early(api: Api, people: People) -> None:
    body = Sent(_many_small_fields())
    detail, grown = _post(api, people, body)
    assert detail == upload_stream.MSG_PARTS
    assert body.bytes < 1 << 20, f"read {body.bytes:,} bytes of a {FLOOD_BYTES:,}-byte flood"
    assert grown < 20 << 20, f"the server grew by {grown / 2**20:.0f} MB"
    assert _uploads_left() == [] and datasets.list_datasets(people.analyst) == []


def test_one_huge_field_is_refused_early(api: Api, people: People) -> None:
    body = Sent(_one_huge_field())
    detail, grown = _post(api, people, body)
    assert detail == upload_stream.MSG_ENVELOPE
    assert body.bytes < 1 << 20, f"read {body.bytes:,} bytes of a {FLOOD_BYTES:,}-byte field"
    assert grown < 20 << 20, f"the server grew by {grown / 2**20:.0f} MB"
    assert _uploads_left() == [] and datasets.list_datasets(people.analyst) == []


def test_a_file_with_a_name_and_a_few_extra_fields_still_uploads(api: Api,
                                                                 people: People) -> None:
    extra = {f"extra{n}": "x" * 100 for n in range(upload_stream.MAX_PARTS - 2)}
    response = api.post("/v1/datasets", token=people.token(people.analyst),
                        data={"name": "Penguins", **extra},
                        files={"file": ("p.csv", b"a,b\n1,2\n", "text/csv")})
    assert response.status_code == 201, response.text
    assert response.json()["dataset"]["name"] == "Penguins"
