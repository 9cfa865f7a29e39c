"""The datasets a caller names exist and are theirs to see: checked before any work.

Who may see a dataset is decided in services.access.dataset_access; these checks apply that
rule to the datasets (and Parquet files) a service is asked to use, through the dataset
operations, so access itself never needs them (no import cycle access ⇄ data).
"""

from collections.abc import Iterable
from pathlib import Path

from services.access.users import UserView
from services.data import datasets
from services.errors import NotFound, PermissionDenied
from services.settings import get_settings

MSG_NOT_VISIBLE = "One of the datasets picked does not exist or is not shared with you."


def require_dataset_files(actor: UserView,
                          files: Iterable[tuple[int | None, Path]]) -> None:
    """Every (dataset id, Parquet file) must be a version of a dataset this person can see.

    A file without a dataset id is allowed only outside the data folder (a test's or a
    benchmark's own file): no stored dataset can be reached by path alone.
    """
    root = get_settings().datasets_dir.resolve()
    for dataset_id, path in files:
        resolved = Path(path).resolve()
        if dataset_id is None:
            if resolved.is_relative_to(root):
                raise PermissionDenied(MSG_NOT_VISIBLE)
            continue
        try:
            versions = datasets.list_versions(actor, dataset_id)
        except NotFound as error:
            raise PermissionDenied(MSG_NOT_VISIBLE) from error
        if not any(Path(v.parquet_path).resolve() == resolved for v in versions):
            raise PermissionDenied(MSG_NOT_VISIBLE)


def require_dataset(actor: UserView, dataset_id: int | None,
                    version: int | None = None) -> None:
    """The dataset (and version, if given) exists and this person can see it."""
    if dataset_id is None:
        return
    try:
        if version is None:
            datasets.get_dataset(actor, dataset_id)
        else:
            datasets.get_version(actor, dataset_id, version)
    except NotFound as error:
        raise PermissionDenied(
            "That dataset does not exist or is not shared with you, so the work cannot be "
            "saved with it.") from error
