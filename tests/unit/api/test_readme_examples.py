"""The README's Python example runs as written against the API (upload → profile → chart
data → ask), with httpx.Client swapped for a client of the ASGI app."""

import re
import runpy
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from services.access import api_tokens
from tests.factories import make_admin
from tests.unit.api.conftest import Api

README = Path(__file__).resolve().parents[3] / "README.md"


def _python_example() -> str:
    section = README.read_text().split("## REST API", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, re.DOTALL)[0]


def test_the_readme_python_example_runs(api: Api, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    secret = api_tokens.create_token(make_admin(), "readme").secret
    (tmp_path / "sales.csv").write_text("region,amount\nNorth,10\nSouth,5\nNorth,7\n")
    monkeypatch.chdir(tmp_path)

    def client(**kwargs: Any) -> TestClient:
        return TestClient(api.app, base_url=kwargs["base_url"], headers=kwargs["headers"])

    monkeypatch.setattr(httpx, "Client", client)
    script = tmp_path / "readme_example.py"
    script.write_text(_python_example().replace("rdk_…", secret))
    namespace = runpy.run_path(str(script))  # run as a person would run the example
    printed = capsys.readouterr().out
    assert "('region', 'text', 0)" in printed and "'Sum of amount': 17" in printed
    assert namespace["answer"]["status"] == "unavailable"  # no Claude key in tests
