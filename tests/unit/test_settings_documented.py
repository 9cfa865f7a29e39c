"""Every setting is documented where people look: the README's Configuration table and
`.streamlit/secrets.toml.example` (issue 18.14: six were missing from the example file, which
claimed to document them all). A setting added without its words fails here."""

import re

import pytest

from services.settings import PROJECT_ROOT, SECRETS_FILE_ENV, Settings

README = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
EXAMPLE = (PROJECT_ROOT / ".streamlit" / "secrets.toml.example").read_text(encoding="utf-8")


def _setting_names() -> list[str]:
    """The environment name of every setting (its upper-case alias)."""
    names = [SECRETS_FILE_ENV]
    for field_name, field in Settings.model_fields.items():
        choices = getattr(field.validation_alias, "choices", [])
        upper = [str(c) for c in choices if str(c).isupper()]
        assert upper, f"setting {field_name} has no environment name"
        names.append(upper[0])
    return names


def _configuration_section() -> str:
    match = re.search(r"^## Configuration\n(.*?)^## ", README, flags=re.S | re.M)
    assert match, "README.md has no Configuration section"
    return match.group(1)


@pytest.mark.parametrize("name", _setting_names())
def test_every_setting_is_in_the_readme_table(name: str) -> None:
    rows = [line for line in _configuration_section().splitlines() if line.startswith("| `")]
    assert any(f"`{name}`" in row for row in rows), f"{name} is missing from README's table"


@pytest.mark.parametrize("name", _setting_names())
def test_every_setting_is_in_the_example_secrets_file(name: str) -> None:
    assert re.search(rf"^# {name} = ", EXAMPLE, flags=re.M), (
        f"{name} is missing from .streamlit/secrets.toml.example")
