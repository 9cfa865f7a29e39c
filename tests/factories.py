"""Small helpers to create accounts and research items in tests."""

from services.access import users
from services.access.permissions import Role
from services.access.users import NewUser, UserView
from services.research import items
from services.research.items import ItemDetail, ItemInput

PASSWORD = "correct-horse-42"


def make_admin(username: str = "ada") -> UserView:
    return users.create_first_admin(
        NewUser(username=username, name="Ada Admin", password=PASSWORD, role=Role.ADMIN)
    )


def make_user(admin: UserView, username: str, role: Role = Role.ANALYST) -> UserView:
    return users.create_user(
        admin, NewUser(username=username, name=username.title(), password=PASSWORD, role=role)
    )


def make_item(actor: UserView, title: str, description: str = "") -> ItemDetail:
    return items.create_item(actor, ItemInput(title=title, description=description))
