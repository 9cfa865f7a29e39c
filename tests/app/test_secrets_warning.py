"""AppTest: an unreadable secrets file is shown to admins (never its values)."""

from pathlib import Path

import pytest

from services.settings import reset_settings_cache
from tests.app.helpers import all_text, open_page, sign_in
from tests.factories import make_admin


def test_admins_are_told_the_secrets_file_is_ignored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin = make_admin()
    broken = tmp_path / "secrets.toml"
    broken.write_text('anthropic_api_key = "sk-ant-never-shown-12345\n')
    monkeypatch.setenv("RESEARCH_DESK_SECRETS_FILE", str(broken))
    reset_settings_cache()
    at = open_page(sign_in(admin.username), "pages/admin.py")
    assert not at.exception
    text = all_text(at)
    assert f"The secrets file {broken} is not valid TOML at line 1" in text
    assert "sk-ant-never-shown" not in text
