"""Every test gets its own data folder and metadata store; nothing touches data/runtime."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from services.access import sign_in_throttle
from services.settings import reset_settings_cache
from services.store.db import dispose_engines

ENV_TO_CLEAR = (
    "ANTHROPIC_API_KEY",
    "ANTHROPIC_BASE_URL",
    "RESEARCH_DESK_DATABASE_URL",
    "RESEARCH_DESK_COOKIE_KEY",
    "RESEARCH_DESK_MODEL",
)


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    folder = tmp_path / "data"
    for name in ENV_TO_CLEAR:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("RESEARCH_DESK_DATA_DIR", str(folder))
    monkeypatch.setenv("RESEARCH_DESK_BCRYPT_ROUNDS", "4")
    monkeypatch.setenv("RESEARCH_DESK_SECRETS_FILE", str(tmp_path / "no-secrets.toml"))
    reset_settings_cache()
    dispose_engines()
    sign_in_throttle.reset()  # failed sign-ins are counted per process
    yield folder
    dispose_engines()
    reset_settings_cache()
