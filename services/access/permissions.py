"""Who may do what. Pages ask here; services enforce here. One table, one place."""

from enum import StrEnum

from services.errors import PermissionDenied


class Role(StrEnum):
    ADMIN = "admin"
    ANALYST = "analyst"
    VIEWER = "viewer"


ROLE_LABELS: dict[Role, str] = {
    Role.ADMIN: "Admin — manages people, budgets and settings",
    Role.ANALYST: "Analyst — uploads data, charts it and asks Claude",
    Role.VIEWER: "Viewer — reads shared work, cannot change data or use Claude",
}

# Page key -> roles that may open it. Navigation and each page's own check read this.
PAGE_ACCESS: dict[str, frozenset[Role]] = {
    "home": frozenset(Role),
    "datasets": frozenset(Role),
    "dataset": frozenset(Role),
    "explore": frozenset(Role),
    "ask": frozenset({Role.ADMIN, Role.ANALYST}),
    "research": frozenset(Role),
    "research_item": frozenset(Role),
    "boards": frozenset(Role),
    "prompt_lab": frozenset({Role.ADMIN, Role.ANALYST}),
    "usage": frozenset(Role),
    "account": frozenset(Role),
    "admin": frozenset({Role.ADMIN}),
}

# Actions that change data or spend money, by role.
ACTION_ACCESS: dict[str, frozenset[Role]] = {
    "manage_users": frozenset({Role.ADMIN}),
    "read_audit": frozenset({Role.ADMIN}),
    "upload_data": frozenset({Role.ADMIN, Role.ANALYST}),
    "change_data": frozenset({Role.ADMIN, Role.ANALYST}),
    "use_claude": frozenset({Role.ADMIN, Role.ANALYST}),
    "save_insight": frozenset({Role.ADMIN, Role.ANALYST}),
    "manage_settings": frozenset({Role.ADMIN}),
    "read_health": frozenset({Role.ADMIN}),  # free space and what is wrong, in sentences
    "read_evaluation": frozenset({Role.ADMIN}),  # the latest `make eval` report (Usage page)
    # Data sources (outside databases): admins add, test and remove them (their URLs and
    # users are theirs to see); live datasets made from them follow dataset_access.
    "manage_sources": frozenset({Role.ADMIN}),
    "use_sources": frozenset({Role.ADMIN, Role.ANALYST}),  # pick one, browse it, add from it
    # Boards: admins and analysts build them (see services.access.board_access for whose).
    "build_boards": frozenset({Role.ADMIN, Role.ANALYST}),
}


def can_open(role: str, page: str) -> bool:
    return Role(role) in PAGE_ACCESS.get(page, frozenset())


def can(role: str, action: str) -> bool:
    return Role(role) in ACTION_ACCESS.get(action, frozenset())


def require(role: str, action: str) -> None:
    if can(role, action):
        return
    raise PermissionDenied(
        "Your role does not allow this. Ask an admin if you need access."
    )
