"""Settings sources, the cookie key, storage errors, and that no secret reaches a log."""

import json
import logging
import stat
from pathlib import Path

import pytest

from services.access import auth_keys, users
from services.errors import StorageUnavailable
from services.logs import JsonFormatter, RedactingFilter, redact, report_unexpected
from services.settings import get_settings, reset_settings_cache, secrets_file_problem
from services.store import db
from tests.factories import PASSWORD, make_admin


def test_environment_overrides_secrets_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('RESEARCH_DESK_MODEL = "from-file"\nanthropic_api_key = "sk-file-123456"\n')
    monkeypatch.setenv("RESEARCH_DESK_SECRETS_FILE", str(secrets))
    reset_settings_cache()
    assert get_settings().model == "from-file"
    assert get_settings().has_claude_key
    monkeypatch.setenv("RESEARCH_DESK_MODEL", "from-env")
    reset_settings_cache()
    assert get_settings().model == "from-env"
    assert "sk-file-123456" not in repr(get_settings())


@pytest.mark.duckdb_only(reason="the default store, used when no database URL is set")
def test_default_database_lives_in_the_data_dir(data_dir: Path) -> None:
    assert get_settings().metadata_url == f"duckdb:///{data_dir / 'metadata.duckdb'}"


def test_cookie_key_is_generated_once_with_owner_only_permissions(data_dir: Path) -> None:
    first = auth_keys.cookie_key()
    second = auth_keys.cookie_key()
    key_file = data_dir / auth_keys.KEY_FILE_NAME
    assert first == second and len(first) >= 40
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_cookie_key_from_settings_is_used(monkeypatch: pytest.MonkeyPatch, data_dir: Path) -> None:
    monkeypatch.setenv("RESEARCH_DESK_COOKIE_KEY", "configured-key-0123456789")
    reset_settings_cache()
    assert auth_keys.cookie_key() == "configured-key-0123456789"
    assert not (data_dir / auth_keys.KEY_FILE_NAME).exists()


def test_unwritable_data_dir_gives_a_clear_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("RESEARCH_DESK_DATA_DIR", str(blocker / "data"))
    reset_settings_cache()
    db.dispose_engines()
    with pytest.raises(StorageUnavailable, match="data folder"):
        db.get_engine()


@pytest.mark.duckdb_only(reason="a damaged DuckDB file in the data folder")
def test_corrupt_metadata_file_gives_a_clear_message(data_dir: Path) -> None:
    data_dir.mkdir(parents=True)
    (data_dir / "metadata.duckdb").write_bytes(b"this is not a database" * 100)
    with pytest.raises(StorageUnavailable, match="metadata store"):
        db.get_engine()


def test_migrations_keep_data_across_restarts() -> None:
    make_admin()
    db.dispose_engines()
    assert users.get_user("ada") is not None


def test_redact_removes_configured_and_shaped_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "plain-secret-value-xyz")
    reset_settings_cache()
    text = redact("key plain-secret-value-xyz and sk-ant-api03-abcdefghijk and Bearer abc.def.ghi")
    assert "plain-secret-value-xyz" not in text
    assert "sk-ant-api03" not in text
    assert "abc.def.ghi" not in text


def test_no_secret_in_any_log_line(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-test-SECRET123456")
    monkeypatch.setenv("RESEARCH_DESK_COOKIE_KEY", "cookie-SECRET-abcdef")
    reset_settings_cache()
    logger = logging.getLogger("services.test_secret")
    logger.addFilter(RedactingFilter())
    make_admin()
    with caplog.at_level(logging.DEBUG):
        logger.error("calling with %s", get_settings().anthropic_api_key.get_secret_value())  # type: ignore[union-attr]
        users.verify_login("ada", PASSWORD)
        try:
            raise RuntimeError("boom with cookie-SECRET-abcdef inside")
        except RuntimeError as error:
            reference = report_unexpected(error, where="test")
    formatter = JsonFormatter()
    lines = [formatter.format(record) for record in caplog.records]
    assert any(reference in line for line in lines)
    for line in lines + [record.getMessage() for record in caplog.records]:
        assert "SECRET123456" not in line
        assert "cookie-SECRET-abcdef" not in line
        assert PASSWORD not in line
    assert json.loads(lines[0])["level"] == "ERROR"


def test_a_malformed_secrets_file_is_reported_without_its_values(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('RESEARCH_DESK_MODEL = "from-file"\n'
                       'anthropic_api_key = "my-very-secret-value-99\n')  # unclosed quote
    monkeypatch.setenv("RESEARCH_DESK_SECRETS_FILE", str(secrets))
    reset_settings_cache()
    redacting = RedactingFilter()  # as configured at start-up: it reads the settings itself
    logging.getLogger("services.settings").addFilter(redacting)
    try:
        with caplog.at_level(logging.WARNING, logger="services.settings"):
            settings = get_settings()
            get_settings()  # said once, not on every read
    finally:
        logging.getLogger("services.settings").removeFilter(redacting)
    assert settings.model != "from-file"  # the file is not used…
    problem = secrets_file_problem()
    assert problem is not None and "line 2" in problem and "secrets.toml" in problem
    assert "ignored" in problem  # …and that is said, at start-up and to admins
    logged = [r for r in caplog.records if "secrets" in r.getMessage()]
    assert len(logged) == 1 and logged[0].levelno == logging.WARNING
    for text in [problem, *(r.getMessage() for r in caplog.records),
                 *(json.dumps(r.__dict__, default=str) for r in caplog.records)]:
        assert "my-very-secret-value-99" not in text

    secrets.write_text('RESEARCH_DESK_MODEL = "from-file"\n')  # fixed: no more complaint
    reset_settings_cache()
    assert get_settings().model == "from-file"
    assert secrets_file_problem() is None
