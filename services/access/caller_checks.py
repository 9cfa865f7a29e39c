"""Who is calling, checked first: before any work, any file read or any Claude token.

Service entry points that spend Claude tokens or read datasets start with these checks, so
a page that forgot its own check (or a direct call) cannot get past them.
"""

from collections.abc import Iterable
from pathlib import Path

from services.access import users
from services.access.permissions import can_open, require
from services.access.users import UserView
from services.errors import NotFound, PermissionDenied
from services.settings import get_settings
from services.store import datasets

MSG_SIGN_IN = "Please sign in again to continue."
MSG_NOT_VISIBLE = "One of the datasets picked does not exist or is not shared with you."


def resolve_actor(user: str | None, actor: UserView | None) -> UserView:
    """The caller as stored now: role and disabled flag are read fresh, so a change made by
    an admin a moment ago counts; an unknown or disabled account is refused."""
    username = actor.username if actor is not None else user
    stored = users.get_user(username) if username else None
    if stored is None or stored.disabled:
        raise PermissionDenied(MSG_SIGN_IN)
    return stored


def require_claude(user: str | None = None, actor: UserView | None = None) -> UserView:
    """The caller, if their role may use Claude; `PermissionDenied` otherwise."""
    caller = resolve_actor(user, actor)
    require(caller.role, "use_claude")
    return caller


def require_page(actor: UserView, page: str) -> UserView:
    """The caller as stored now, if their role may open `page` (its work, not only its
    screen: Ask's SQL tab and its tables); `PermissionDenied` otherwise."""
    caller = resolve_actor(None, actor)
    if not can_open(caller.role, page):
        raise PermissionDenied("Your role cannot run queries; ask an admin for analyst access.")
    return caller


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
