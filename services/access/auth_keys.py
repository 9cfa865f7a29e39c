"""Keys from settings, or generated once and kept owner-only on disk: the cookie signing key
and the key that seals data sources' passwords."""

import os
import secrets
from collections.abc import Callable
from pathlib import Path

from cryptography.fernet import Fernet

from services.errors import StorageUnavailable
from services.settings import get_settings

KEY_FILE_NAME = "cookie_key"
SOURCES_KEY_FILE_NAME = "sources_key"


def cookie_key() -> str:
    configured = get_settings().cookie_key
    if configured is not None and configured.get_secret_value():
        return configured.get_secret_value()
    return _stored_key(get_settings().data_dir / KEY_FILE_NAME)


def sources_key() -> str:
    """The Fernet key sealing data sources' passwords (services.sources.sealing)."""
    configured = get_settings().sources_key
    if configured is not None and configured.get_secret_value():
        return configured.get_secret_value()
    return _stored_key(get_settings().data_dir / SOURCES_KEY_FILE_NAME,
                       make=lambda: Fernet.generate_key().decode(),
                       setting="RESEARCH_DESK_SOURCES_KEY", what="the key of data sources")


def _stored_key(path: Path, *, make: Callable[[], str] = lambda: secrets.token_urlsafe(48),
                setting: str = "RESEARCH_DESK_COOKIE_KEY", what: str = "its sign-in key") -> str:
    if path.is_file():
        return path.read_text().strip()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # O_EXCL: if two processes start at once, only one key wins; the other reads it.
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    except OSError as error:
        raise StorageUnavailable(
            f"Research Desk cannot store {what} in the data folder. Check that the "
            f"folder is writable, or set {setting}."
        ) from error
    key = make()
    with os.fdopen(descriptor, "w") as handle:
        handle.write(key)
    return key
