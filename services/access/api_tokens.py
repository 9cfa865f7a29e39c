"""Personal API tokens: scripts and notebooks act as their owner, with the owner's role.

A token is `rdk_` followed by 32 random bytes (URL-safe base64). Only its SHA-256 is stored,
so a copy of the metadata store cannot be used to call the API; the secret is shown once.
Each check reads the owner's account fresh: a disabled account's tokens stop working at once,
and a role changed by an admin counts on the next call. Creating and revoking are audited.
"""

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from services.access import audit
from services.access.permissions import Role
from services.access.users import UserView
from services.errors import AuthenticationFailed, InvalidInput, NotFound
from services.labels import clean_label
from services.store.db import session_scope
from services.store.models import ApiToken, User, utcnow

PREFIX = "rdk_"
SECRET_BYTES = 32
MAX_NAME = 100
MAX_EXPIRY_DAYS = 3650
MAX_TOKENS_PER_PERSON = 50
LAST_USED_EVERY_S = 60  # "last used" is written at most once a minute per token

MSG_INVALID = "This API token is not valid. Create a new one on your Account page."
MSG_EXPIRED = "This API token has expired. Create a new one on your Account page."
MSG_NOT_FOUND = "This token does not exist or is not yours."


class TokenView(BaseModel):
    """What may be shown about a token: never its secret or hash."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    name: str
    hint: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and not self.is_expired

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= utcnow()


class NewToken(BaseModel):
    """A token just created: `secret` is shown to its owner once and never again."""

    token: TokenView
    secret: str


class TokenCaller(BaseModel):
    """Who a valid token acts for, read fresh from the store."""

    user: UserView
    token_id: int


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def looks_like_token(text: str) -> bool:
    return text.startswith(PREFIX) and len(text) > len(PREFIX) + 20


def create_token(actor: UserView, name: str, *, expires_in_days: int | None = None,
                 for_user: str | None = None) -> NewToken:
    """A new token for `actor` (or, for an admin or the command line, for `for_user`)."""
    label = clean_label(name, what="token name", limit=MAX_NAME)
    if expires_in_days is not None and not 1 <= expires_in_days <= MAX_EXPIRY_DAYS:
        raise InvalidInput(f"A token can expire after 1 to {MAX_EXPIRY_DAYS:,} days.")
    owner = for_user or actor.username
    if owner != actor.username and actor.role != Role.ADMIN:
        raise NotFound("There is no such account.")
    secret = PREFIX + secrets.token_urlsafe(SECRET_BYTES)
    now = utcnow()
    with session_scope(write=True) as session:
        user = session.get(User, owner)
        if user is None or user.disabled:
            raise NotFound(f"There is no active account called “{owner}”.")
        active = session.scalars(
            select(ApiToken.id).where(ApiToken.username == owner, ApiToken.revoked_at.is_(None))
        ).all()
        if len(active) >= MAX_TOKENS_PER_PERSON:
            raise InvalidInput(f"You can have at most {MAX_TOKENS_PER_PERSON} tokens; revoke "
                               "one you no longer use first.")
        row = ApiToken(
            username=owner, name=label, token_hash=hash_secret(secret),
            hint=secret[: len(PREFIX) + 6], created_at=now,
            expires_at=now + timedelta(days=expires_in_days) if expires_in_days else None,
        )
        session.add(row)
        detail = f"{label}; expires in {expires_in_days} days" if expires_in_days else label
        audit.record(session, actor=actor.username, action="api_token_created", target=owner,
                     detail=detail)
        session.flush()
        return NewToken(token=TokenView.model_validate(row), secret=secret)


def list_tokens(actor: UserView, username: str | None = None) -> list[TokenView]:
    """A person's tokens, newest first (an admin may list anyone's)."""
    owner = username or actor.username
    if owner != actor.username and actor.role != Role.ADMIN:
        return []
    with session_scope() as session:
        rows = session.scalars(
            select(ApiToken).where(ApiToken.username == owner).order_by(ApiToken.id.desc())
        )
        return [TokenView.model_validate(row) for row in rows]


def revoke_token(actor: UserView, token_id: int) -> TokenView:
    """Stop one token working. Its owner or an admin may; anyone else is told it is not there."""
    with session_scope(write=True) as session:
        row = session.get(ApiToken, token_id)
        if row is None or (row.username != actor.username and actor.role != Role.ADMIN):
            raise NotFound(MSG_NOT_FOUND)
        if row.revoked_at is None:
            row.revoked_at = utcnow()
            audit.record(session, actor=actor.username, action="api_token_revoked",
                         target=row.username, detail=row.name)
        return TokenView.model_validate(row)


def revoke_all(actor: UserView, username: str) -> int:
    """Revoke every active token of `username` (the owner or an admin); how many were."""
    if username != actor.username and actor.role != Role.ADMIN:
        raise NotFound("There is no such account.")
    with session_scope(write=True) as session:
        count = revoke_all_in(session, username)
        audit.record(session, actor=actor.username, action="api_tokens_revoked",
                     target=username, detail=f"{count} token(s)")
        return count


def revoke_all_in(session: Session, username: str) -> int:
    """Revoke every active token of `username` within the caller's transaction (also when
    an account is disabled: enabling it again must not bring back tokens that may have
    leaked meanwhile); how many were."""
    result = session.execute(
        update(ApiToken)
        .where(ApiToken.username == username, ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    return int(getattr(result, "rowcount", 0) or 0)


# Every API request runs this, so it is SQL text with one bound parameter: the same join
# as a SQLAlchemy select, without compiling an expression and loading ORM objects each time.
_AUTHENTICATE_SQL = text(
    "SELECT t.id, t.token_hash, t.expires_at, t.last_used_at, t.revoked_at, u.username, "
    "u.name, u.email, u.role, u.disabled, u.created_at, u.session_version "
    "FROM api_tokens AS t JOIN users AS u ON u.username = t.username "
    "WHERE t.token_hash = :digest")


def authenticate(secret: str) -> TokenCaller:
    """The account a token acts for; `AuthenticationFailed` for anything not valid now."""
    if not looks_like_token(secret) or len(secret) > 200:
        raise AuthenticationFailed(MSG_INVALID)
    digest = hash_secret(secret)
    now = utcnow()
    with session_scope() as session:  # one query: the token and its owner as stored now
        found = session.execute(_AUTHENTICATE_SQL, {"digest": digest}).first()
    if found is None or not hmac.compare_digest(str(found.token_hash), digest):
        raise AuthenticationFailed(MSG_INVALID)
    if found.revoked_at is not None or found.disabled:
        raise AuthenticationFailed(MSG_INVALID)
    if found.expires_at is not None and found.expires_at <= now:
        raise AuthenticationFailed(MSG_EXPIRED)
    user = UserView(username=found.username, name=found.name, email=found.email or "",
                    role=found.role, disabled=bool(found.disabled),
                    created_at=found.created_at, session_version=found.session_version)
    caller = TokenCaller(user=user, token_id=int(found.id))
    last_used = found.last_used_at
    if last_used is None or (now - last_used).total_seconds() >= LAST_USED_EVERY_S:
        _touch(caller.token_id, now)
    return caller


def _touch(token_id: int, when: datetime) -> None:
    with session_scope(write=True) as session:
        session.execute(update(ApiToken).where(ApiToken.id == token_id)
                        .values(last_used_at=when))
