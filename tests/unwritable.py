"""A data folder that really refuses writes, and a metadata store kept outside it.

Permissions do not stop root (tests may run as root), so there the folder gets the
immutable attribute instead (`chattr +i`): nobody, root included, may add a file to it.
Either way the same condition as a read-only disk: new files are refused.
"""

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from services.settings import reset_settings_cache
from services.store.db import dispose_engines


@contextmanager
def unwritable(folder: Path) -> Iterator[None]:
    folder.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        folder.chmod(0o500)
        undo = ["chmod", "700", str(folder)]
    else:
        made = subprocess.run(["chattr", "+i", str(folder)], capture_output=True, check=False)
        if made.returncode != 0:
            pytest.fail("As root, a read-only folder needs `chattr +i` (e2fsprogs) on a file "
                        f"system that supports it; it failed here: {made.stderr.decode().strip()}")
        undo = ["chattr", "-i", str(folder)]
    try:
        with pytest.raises(OSError):  # the condition is real, not assumed
            (folder / "probe").touch()
        yield
    finally:
        subprocess.run(undo, check=True)


def keep_store_outside(folder: Path, template: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The metadata store in `folder` (as with PostgreSQL, it is not in the data folder), so
    a read-only data folder leaves signing in and tokens working."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "metadata.duckdb"
    shutil.copyfile(template, target)
    monkeypatch.setenv("RESEARCH_DESK_DATABASE_URL", f"duckdb:///{target}")
    reset_settings_cache()
    dispose_engines()
