"""The README and `make run` tell a newcomer what happens: port, install progress, privacy."""

import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_make_run_says_what_it_does_on_a_fresh_checkout(tmp_path: Path) -> None:
    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")
    (tmp_path / "requirements.txt").write_text("")
    plan = subprocess.run(["make", "-n", "run", "PORT=8600"], cwd=tmp_path, text=True,
                          capture_output=True, check=True).stdout
    steps = [line for line in plan.splitlines() if line.startswith("echo")]
    assert [s.split('"')[1].split(" ")[0] for s in steps] == ["Creating", "Installing",
                                                              "Starting"]
    assert "Starting Research Desk on http://127.0.0.1:8600" in plan
    assert "uvicorn asgi:app --host 127.0.0.1 --port 8600" in plan  # UI and API, one port


def test_readme_mentions_port_and_private_datasets() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "make run PORT=8600" in readme
    assert "private by default" in readme
    assert "Share" in readme
