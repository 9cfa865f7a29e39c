"""Accounts: creation, roles, passwords, sign-in checks. Every change is audited.

Callers pass the acting user (`actor`); the role check happens here, not only in pages.
"""

import math
import re
from datetime import datetime
from functools import lru_cache
from typing import Self

import bcrypt
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.access import audit, password_rules
from services.access import sign_in_throttle as throttle
from services.access.permissions import Role, require
from services.errors import AuthenticationFailed, Conflict, InvalidInput, NotFound
from services.settings import get_settings
from services.store.db import lock_for_transaction, session_scope
from services.store.models import User, utcnow

USERNAME_RULE = "3–32 characters: lowercase letters, digits, dots, dashes or underscores"
PASSWORD_RULE = password_rules.PASSWORD_RULE
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{2,31}$")
_EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")


class UserView(BaseModel):
    """What the app may know about a user: never the password hash."""

    model_config = ConfigDict(from_attributes=True)

    username: str
    name: str
    email: str
    role: Role
    disabled: bool
    created_at: datetime
    session_version: int = 0  # a signed-in browser holding an older number is signed out

    @field_validator("session_version", mode="before")
    @classmethod
    def _version(cls, value: object) -> object:
        return 0 if value is None else value

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN


def validate_password(password: str, *, username: str = "", name: str = "") -> str:
    """The one password rule (first admin, Admin, Account, command line); `username` and
    `name` are the person's, since a password built on them is easy to guess."""
    if len(password.encode()) > 72:
        raise InvalidInput("Passwords can be at most 72 bytes long; choose a shorter one.")
    if password != password.strip():
        raise InvalidInput("Passwords cannot start or end with a space.")
    problem = password_rules.weakness(password, username=username, name=name)
    if problem:
        raise InvalidInput(problem)
    return password


class NewUser(BaseModel):
    username: str
    name: str
    email: str = ""
    password: str
    role: Role = Role.ANALYST

    @field_validator("username")
    @classmethod
    def _username(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("Enter a username.")
        if not _USERNAME.match(value):
            raise ValueError(f"Usernames must be {USERNAME_RULE}.")
        return value

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("Enter the person's name.")
        if len(value) > 200:
            raise ValueError("Names can be at most 200 characters long.")
        if re.search(r"[<>]", value):
            raise ValueError("Names cannot contain < or > characters.")
        return value

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        value = value.strip()
        if value and not _EMAIL.match(value):
            raise ValueError("That email address does not look right (name@example.org).")
        return value

    @model_validator(mode="after")
    def _password(self) -> Self:
        validate_password(self.password, username=self.username, name=self.name)
        return self

    @classmethod
    def parse(cls, **fields: object) -> Self:
        """Validate and turn pydantic's errors into one friendly InvalidInput sentence."""
        try:
            return cls.model_validate(fields)
        except InvalidInput:
            raise
        except ValidationError as error:
            errors = error.errors()
            message = errors[0]["msg"].removeprefix("Value error, ") if errors else str(error)
            if errors and errors[0].get("type") == "enum":
                message = "Choose one of the roles: admin, analyst or viewer."
            raise InvalidInput(message) from error


def hash_password(password: str) -> str:
    rounds = get_settings().bcrypt_rounds
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=rounds)).decode()


@lru_cache(maxsize=4)
def _dummy_hash(rounds: int) -> str:
    """Checked when the username is unknown, so response time does not reveal it."""
    return bcrypt.hashpw(b"not-a-real-password", bcrypt.gensalt(rounds=rounds)).decode()


def _check_password(password: str, password_hash: str) -> bool:
    try:
        return bcrypt.checkpw(password.encode(), password_hash.encode())
    except ValueError:
        return False


def _get(session: Session, username: str) -> User:
    user = session.get(User, username)
    if user is None:
        raise NotFound(f"There is no user called “{username}”.")
    return user


def _active_admins(session: Session) -> int:
    statement = (
        select(func.count())
        .select_from(User)
        .where(User.role == Role.ADMIN.value, User.disabled.is_(False))
    )
    return int(session.scalar(statement) or 0)


def has_users() -> bool:
    with session_scope() as session:
        return bool(session.scalar(select(func.count()).select_from(User)))


def get_user(username: str) -> UserView | None:
    with session_scope() as session:
        user = session.get(User, username)
        return UserView.model_validate(user) if user else None


def list_users(actor: UserView) -> list[UserView]:
    require(actor.role, "manage_users")
    with session_scope() as session:
        rows = session.scalars(select(User).order_by(User.username))
        return [UserView.model_validate(row) for row in rows]


def _insert(session: Session, new_user: NewUser, *, actor: str) -> UserView:
    if session.get(User, new_user.username) is not None:
        raise Conflict(f"The username “{new_user.username}” is taken; choose another.")
    user = User(
        username=new_user.username,
        name=new_user.name,
        email=new_user.email,
        password_hash=hash_password(new_user.password),
        role=new_user.role.value,
        disabled=False,
        failed_logins=0,
        created_at=utcnow(),
    )
    session.add(user)
    audit.record(
        session,
        actor=actor,
        action="user_created",
        target=user.username,
        detail=f"role={user.role}",
    )
    session.flush()
    return UserView.model_validate(user)


# Two first admins at once (two servers, or the page and the command line): on PostgreSQL the
# second waits for this lock, which is let go only once the first one's commit is visible, so
# its count (a later statement, READ COMMITTED) sees the first admin. On DuckDB one process
# holds the file and `session_scope(write=True)` takes turns inside it.
FIRST_ADMIN_LOCK = 0x5244_6661  # "RDfa"


def create_first_admin(new_user: NewUser) -> UserView:
    """Only possible while there are no accounts at all (fresh install)."""
    admin = new_user.model_copy(update={"role": Role.ADMIN})
    with session_scope(write=True) as session:
        lock_for_transaction(session, FIRST_ADMIN_LOCK)
        if session.scalar(select(func.count()).select_from(User)):
            raise Conflict("An admin account already exists. Please sign in instead.")
        return _insert(session, admin, actor=admin.username)


def create_user(actor: UserView, new_user: NewUser) -> UserView:
    require(actor.role, "manage_users")
    with session_scope(write=True) as session:
        return _insert(session, new_user, actor=actor.username)


def set_disabled(actor: UserView, username: str, disabled: bool) -> UserView:
    require(actor.role, "manage_users")
    with session_scope(write=True) as session:
        user = _get(session, username)
        if user.disabled == disabled:
            return UserView.model_validate(user)
        is_active_admin = user.role == Role.ADMIN.value and not user.disabled
        if disabled and is_active_admin and _active_admins(session) <= 1:
            raise Conflict("This is the last active admin; make someone else an admin first.")
        user.disabled = disabled
        detail = ""
        if disabled:
            _revoke_sessions(user)
            from services.access import api_tokens  # noqa: PLC0415 - avoid an import cycle

            detail = f"{api_tokens.revoke_all_in(session, username)} API token(s) revoked"
        action = "user_disabled" if disabled else "user_enabled"
        audit.record(session, actor=actor.username, action=action, target=username,
                     detail=detail)
        return UserView.model_validate(user)


def change_role(actor: UserView, username: str, role: Role) -> UserView:
    require(actor.role, "manage_users")
    with session_scope(write=True) as session:
        user = _get(session, username)
        if user.role == role.value:
            return UserView.model_validate(user)
        is_active_admin = user.role == Role.ADMIN.value and not user.disabled
        if is_active_admin and _active_admins(session) <= 1:
            raise Conflict("This is the last active admin; make someone else an admin first.")
        audit.record(
            session,
            actor=actor.username,
            action="role_changed",
            target=username,
            detail=f"{user.role} → {role.value}",
        )
        user.role = role.value
        return UserView.model_validate(user)


def _validate_new_password(username: str, password: str) -> None:
    """Checked before the write starts: judging a password takes a few milliseconds."""
    with session_scope() as session:
        user = _get(session, username)
        validate_password(password, username=username, name=user.name)


def reset_password(actor: UserView, username: str, new_password: str) -> None:
    require(actor.role, "manage_users")
    _validate_new_password(username, new_password)
    with session_scope(write=True) as session:
        user = _get(session, username)
        user.password_hash = hash_password(new_password)
        user.failed_logins = 0
        user.locked_until = None
        _revoke_sessions(user)
        audit.record(session, actor=actor.username, action="password_reset", target=username)


def change_password(username: str, current_password: str, new_password: str) -> UserView:
    """Changes the password and signs out every other browser; returns the account with its
    new session version, so the browser that changed it can stay signed in."""
    _validate_new_password(username, new_password)
    with session_scope(write=True) as session:
        user = _get(session, username)
        if not _check_password(current_password, user.password_hash):
            raise AuthenticationFailed("Your current password is not right; nothing was changed.")
        if current_password == new_password:
            raise InvalidInput("The new password must differ from the current one.")
        user.password_hash = hash_password(new_password)
        _revoke_sessions(user)
        audit.record(session, actor=username, action="password_changed", target=username)
        return UserView.model_validate(user)


def verify_login(username: str, password: str, *, client: str | None = None) -> UserView:
    """Check a sign-in attempt from `client` (the browser's address). Audited.

    Three brakes (see services/access/sign_in_throttle.py, counted where every server sees
    them, each taken before the password is checked so servers checking at once never check
    more): a client with too many recent failures waits before any password is checked; an
    account with too many recent failures answers "wait" to clients that failed
    at it, real and unknown usernames alike, so the answer never tells whether a username
    exists; and the right password from a client with no failures there still gets in, so
    nobody can lock an account's owner out by guessing.
    """
    username = username.strip().lower()[:64]
    attempt = throttle.begin(throttle.client_key(client), username)
    if attempt.client_wait_s > 0:  # refused before any work: no check, no audit row per attempt
        raise AuthenticationFailed(
            "Too many failed sign-ins from this device or network. Wait "
            f"{math.ceil(attempt.client_wait_s)} seconds, then try again.")
    failed = True  # counted as a failure until the check says otherwise (also if it breaks)
    try:
        with session_scope(write=True) as session:
            outcome = _login_outcome(session, username, password, attempt.account_wait_s)
            detail = outcome if isinstance(outcome, str) else ""
            action = "sign_in" if isinstance(outcome, UserView) else "sign_in_failed"
            audit.record(session, actor=username or "-", action=action, target=username,
                         detail=detail)
        failed = outcome in _FAILURES
    finally:
        throttle.end(attempt, failed=failed)
    if isinstance(outcome, UserView):
        return outcome
    raise AuthenticationFailed(_LOGIN_MESSAGES.get(outcome, outcome))


_NO_MATCH = "That username and password do not match. Please try again."
_FAILURES = ("unknown user", "wrong password")
_LOGIN_MESSAGES = {
    "unknown user": _NO_MATCH,
    "wrong password": _NO_MATCH,
    "disabled": "This account is disabled. Ask an admin to enable it.",
}


def _login_outcome(session: Session, username: str, password: str,
                   lock_wait: float) -> UserView | str:
    """The signed-in user, or a short reason for the audit log (the same for real and
    unknown usernames until the password has been found right)."""
    if lock_wait > 0:
        return f"Too many failed attempts. Wait {math.ceil(lock_wait)} seconds, then try again."
    user = session.get(User, username) if username else None
    # One bcrypt check whether or not the account exists, so the time taken does not tell.
    password_hash = user.password_hash if user else _dummy_hash(get_settings().bcrypt_rounds)
    password_ok = _check_password(password, password_hash)
    if user is None or not password_ok:
        if user is not None:
            user.failed_logins = (user.failed_logins or 0) + 1
        return "unknown user" if user is None else "wrong password"
    if user.disabled:
        return "disabled"
    user.failed_logins = 0
    user.locked_until = None
    return UserView.model_validate(user)


def record_sign_out(username: str) -> None:
    """Signing out ends every signed-in browser of this account (their cookies stop working)."""
    with session_scope(write=True) as session:
        user = session.get(User, username)
        if user is not None:
            _revoke_sessions(user)
        audit.record(session, actor=username, action="sign_out", target=username)


def _revoke_sessions(user: User) -> None:
    user.session_version = (user.session_version or 0) + 1


def is_session_current(username: str, version: int | None) -> bool:
    """Whether a browser signed in at `version` may still act for this enabled account."""
    user = get_user(username)
    return user is not None and not user.disabled and version == user.session_version


def authenticator_credentials() -> dict:
    """Active users in the shape streamlit-authenticator expects (it re-checks cookies)."""
    with session_scope() as session:
        rows = session.scalars(select(User).where(User.disabled.is_(False)))
        return {
            "usernames": {
                row.username: {
                    "name": row.name,
                    "email": row.email,
                    "password": row.password_hash,
                    "roles": [row.role],
                }
                for row in rows
            }
        }
