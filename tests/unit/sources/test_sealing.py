"""Data sources' passwords are sealed with a key from settings (RESEARCH_DESK_SOURCES_KEY), or
one generated once into an owner-only file; another key cannot open them, and says so."""

import stat
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from services.access.auth_keys import SOURCES_KEY_FILE_NAME
from services.errors import SourceUnavailable, StorageUnavailable
from services.settings import reset_settings_cache
from services.sources.sealing import MSG_BAD_KEY, MSG_KEY_CHANGED, seal, unseal


def test_a_generated_key_is_kept_owner_only_and_opens_what_it_sealed(data_dir: Path) -> None:
    sealed = seal("reader-secret")
    assert "reader-secret" not in sealed and unseal(sealed) == "reader-secret"
    key_file = data_dir / SOURCES_KEY_FILE_NAME
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert seal("") == "" and unseal("") == ""  # no password: nothing to seal


def test_the_key_from_settings_is_used_and_another_cannot_open_it(
        data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key = Fernet.generate_key().decode()
    monkeypatch.setenv("RESEARCH_DESK_SOURCES_KEY", key)
    reset_settings_cache()
    sealed = seal("reader-secret")
    assert Fernet(key.encode()).decrypt(sealed.encode()) == b"reader-secret"
    assert not (data_dir / SOURCES_KEY_FILE_NAME).exists()
    monkeypatch.setenv("RESEARCH_DESK_SOURCES_KEY", Fernet.generate_key().decode())
    reset_settings_cache()
    with pytest.raises(SourceUnavailable) as refused:
        unseal(sealed)
    assert str(refused.value) == MSG_KEY_CHANGED


def test_a_malformed_key_is_one_sentence(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RESEARCH_DESK_SOURCES_KEY", "too-short")
    reset_settings_cache()
    with pytest.raises(StorageUnavailable) as refused:
        seal("reader-secret")
    assert str(refused.value) == MSG_BAD_KEY
