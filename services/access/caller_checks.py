"""Who is calling, checked first: before any work, any file read or any Claude token.

Service entry points that spend Claude tokens or read datasets start with these checks, so
a page that forgot its own check (or a direct call) cannot get past them. That the datasets
a caller names are theirs to see is checked in services.data.dataset_checks.
"""

from services.access import users
from services.access.permissions import can_open, require
from services.access.users import UserView
from services.errors import PermissionDenied

MSG_SIGN_IN = "Please sign in again to continue."


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
