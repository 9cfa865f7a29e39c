"""Paths under the data folder as the metadata store keeps them: relative to the folder.

A row never holds the folder's own location, so a data folder that is restored from a
backup, renamed or mounted elsewhere (another server of a team) still opens every version.
`resolve` is the one way from a stored path to a file, and it refuses anything outside the
data folder: a row pointing at `/etc/passwd` or `../other` opens nothing.
"""

import os
from pathlib import Path, PurePosixPath

from services.errors import NotFound
from services.settings import get_settings

OUTSIDE = ("This dataset version's file is not inside the data folder "
           "(RESEARCH_DESK_DATA_DIR), so it is not opened. An admin can move it back there.")


def root() -> Path:
    """The data folder as an absolute path (normalised, symbolic links kept: a folder that
    is itself a link to a shared mount stays what the operator configured)."""
    return Path(os.path.abspath(get_settings().data_dir))


def is_inside(stored: str | Path) -> bool:
    """Whether `stored` (relative, or an absolute path from before paths were relative)
    names something inside the data folder."""
    path = Path(stored)
    if not path.is_absolute():
        return ".." not in PurePosixPath(path.as_posix()).parts and str(path) not in ("", ".")
    return Path(os.path.abspath(path)).is_relative_to(root()) and ".." not in path.parts


def resolve(stored: str | Path) -> Path:
    """The absolute path of a stored path; `NotFound` if it lies outside the data folder."""
    if not is_inside(stored):
        raise NotFound(OUTSIDE)
    return Path(os.path.abspath(root() / stored))


def stored(path: str | Path) -> str:
    """The form a row keeps: the path relative to the data folder, with forward slashes."""
    return resolve(path).relative_to(root()).as_posix()
