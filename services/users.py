"""Accounts: creation, roles, passwords, sign-in checks. Every change is audited.

Callers pass the acting user (`actor`); the role check happens here, not only in pages.
"""

import re
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Self

import bcrypt
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services import audit
from services.db import session_scope
from services.errors import AuthenticationFailed, Conflict, InvalidInput, NotFound
from services.models import User, utcnow
from services.permissions import Role, require
from services.settings import get_settings

USERNAME_RULE = "3–32 characters: lowercase letters, digits, dots, dashes or underscores"
PASSWORD_RULE = "at least 10 characters, with at least one letter and one digit"
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

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN


def validate_password(password: str) -> str:
    if len(password) < 10 or not re.search(r"[A-Za-z]", password) or not re.search(r"\d", password):
        raise InvalidInput(f"Choose a stronger password: {PASSWORD_RULE}.")
    if len(password.encode()) > 72:
        raise InvalidInput("Passwords can be at most 72 bytes long; choose a shorter one.")
    if password != password.strip():
        raise InvalidInput("Passwords cannot start or end with a space.")
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

    @field_validator("password")
    @classmethod
    def _password(cls, value: str) -> str:
        return validate_password(value)

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


def create_first_admin(new_user: NewUser) -> UserView:
    """Only possible while there are no accounts at all (fresh install)."""
    admin = new_user.model_copy(update={"role": Role.ADMIN})
    with session_scope(write=True) as session:
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
        action = "user_disabled" if disabled else "user_enabled"
        audit.record(session, actor=actor.username, action=action, target=username)
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


def reset_password(actor: UserView, username: str, new_password: str) -> None:
    require(actor.role, "manage_users")
    validate_password(new_password)
    with session_scope(write=True) as session:
        user = _get(session, username)
        user.password_hash = hash_password(new_password)
        user.failed_logins = 0
        user.locked_until = None
        audit.record(session, actor=actor.username, action="password_reset", target=username)


def change_password(username: str, current_password: str, new_password: str) -> None:
    validate_password(new_password)
    with session_scope(write=True) as session:
        user = _get(session, username)
        if not _check_password(current_password, user.password_hash):
            raise AuthenticationFailed("Your current password is not right; nothing was changed.")
        if current_password == new_password:
            raise InvalidInput("The new password must differ from the current one.")
        user.password_hash = hash_password(new_password)
        audit.record(session, actor=username, action="password_changed", target=username)


def verify_login(username: str, password: str) -> UserView:
    """Check a sign-in attempt, with a lock-out after repeated failures. Audited.

    Failures are committed (audit entry, failure count) before the error is raised.
    """
    username = username.strip().lower()[:64]
    with session_scope(write=True) as session:
        outcome = _login_outcome(session, username, password)
        detail = outcome if isinstance(outcome, str) else ""
        action = "sign_in" if isinstance(outcome, UserView) else "sign_in_failed"
        audit.record(session, actor=username or "-", action=action, target=username, detail=detail)
    if isinstance(outcome, UserView):
        return outcome
    raise AuthenticationFailed(_LOGIN_MESSAGES.get(outcome, outcome))


_NO_MATCH = "That username and password do not match. Please try again."
_LOGIN_MESSAGES = {
    "unknown user": _NO_MATCH,
    "wrong password": _NO_MATCH,
    "disabled": "This account is disabled. Ask an admin to enable it.",
}


def _login_outcome(session: Session, username: str, password: str) -> UserView | str:
    """The signed-in user, or a short reason for the audit log."""
    settings = get_settings()
    now = utcnow()
    user = session.get(User, username) if username else None
    if user is None:
        _check_password(password, _dummy_hash(get_settings().bcrypt_rounds))
        return "unknown user"
    if user.locked_until is not None and user.locked_until > now:
        seconds = int((user.locked_until - now).total_seconds()) + 1
        return f"Too many failed attempts. Wait {seconds} seconds, then try again."
    if not _check_password(password, user.password_hash):
        user.failed_logins += 1
        if user.failed_logins >= settings.login_max_attempts:
            user.locked_until = now + timedelta(seconds=settings.login_lockout_s)
            user.failed_logins = 0
        return "wrong password"
    if user.disabled:
        return "disabled"
    user.failed_logins = 0
    user.locked_until = None
    return UserView.model_validate(user)


def record_sign_out(username: str) -> None:
    with session_scope(write=True) as session:
        audit.record(session, actor=username, action="sign_out", target=username)


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
