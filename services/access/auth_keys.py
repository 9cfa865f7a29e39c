"""The cookie signing key: from settings, or generated once and kept owner-only on disk."""

import os
import secrets
from pathlib import Path

from services.errors import StorageUnavailable
from services.settings import get_settings

KEY_FILE_NAME = "cookie_key"


def cookie_key() -> str:
    configured = get_settings().cookie_key
    if configured is not None and configured.get_secret_value():
        return configured.get_secret_value()
    return _stored_key(get_settings().data_dir / KEY_FILE_NAME)


def _stored_key(path: Path) -> str:
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
            "Research Desk cannot store its sign-in key in the data folder. Check that the "
            "folder is writable, or set RESEARCH_DESK_COOKIE_KEY."
        ) from error
    key = secrets.token_urlsafe(48)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(key)
    return key
