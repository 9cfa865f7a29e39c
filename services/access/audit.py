"""The audit log: who did what, when, to what. Written by services, read by admins."""

import re
from datetime import datetime

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.access.permissions import require
from services.store.db import session_scope
from services.store.models import AuditEntry

_ID_PREFIX = re.compile(r"^\d+: ")

ACTIONS: dict[str, str] = {
    "sign_in": "Signed in",
    "sign_in_failed": "Failed sign-in",
    "sign_out": "Signed out",
    "user_created": "User created",
    "user_disabled": "User disabled",
    "user_enabled": "User enabled",
    "role_changed": "Role changed",
    "password_reset": "Password reset by admin",
    "password_changed": "Password changed",
    "dataset_created": "Dataset created",
    "dataset_version_created": "Dataset version created",
    "dataset_updated": "Dataset updated",
    "dataset_deleted": "Dataset deleted",
    "item_created": "Research item created",
    "item_updated": "Research item changed",
    "item_deleted": "Research item deleted",
    "budget_changed": "Budget changed",
    "setting_changed": "Setting changed",
    "api_token_created": "API token created",
    "api_token_revoked": "API token revoked",
    "api_tokens_revoked": "All API tokens revoked",
    "source_added": "Data source added",
    "source_removed": "Data source removed",
}


class AuditRecord(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    created_at: datetime
    actor: str
    action: str
    target: str
    detail: str

    @property
    def action_label(self) -> str:
        return ACTIONS.get(self.action, self.action.replace("_", " ").capitalize())

    @property
    def target_label(self) -> str:
        """What was acted on, as people know it: a dataset's name, never its internal id
        (targets are stored as “17: penguins” so admins can still tell datasets apart)."""
        return _ID_PREFIX.sub("", self.target)


class AuditFilter(BaseModel):
    actor: str | None = None
    action: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 500


def record(
    session: Session, *, actor: str, action: str, target: str = "", detail: str = ""
) -> None:
    """Add an audit entry inside the caller's transaction, so it commits with the change."""
    session.add(AuditEntry(actor=actor, action=action, target=target[:300], detail=detail))


def list_entries(actor_role: str, query: AuditFilter) -> list[AuditRecord]:
    """The audit log for admins, newest first, filtered."""
    require(actor_role, "read_audit")
    return _query(query)


def my_activity(username: str, limit: int = 10) -> list[AuditRecord]:
    """A person's own recent actions, for the Home page."""
    return _query(AuditFilter(actor=username, limit=limit))


def _query(query: AuditFilter) -> list[AuditRecord]:
    statement = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(query.limit)
    if query.actor:
        statement = statement.where(AuditEntry.actor == query.actor)
    if query.action:
        statement = statement.where(AuditEntry.action == query.action)
    if query.since:
        statement = statement.where(AuditEntry.created_at >= query.since)
    if query.until:
        statement = statement.where(AuditEntry.created_at <= query.until)
    with session_scope() as session:
        return [AuditRecord.model_validate(row) for row in session.scalars(statement)]
