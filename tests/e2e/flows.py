"""Steps several browser journeys share: first admin, sign-in, menu navigation."""

from playwright.sync_api import Locator, Page, expect

from tests.e2e.conftest import wait_ready

ADMIN_PASSWORD = "first-admin-pass-1"


def field(page: Page, label: str) -> Locator:
    return page.get_by_role("textbox", name=label, exact=True)


def sign_in(page: Page, username: str, password: str) -> None:
    field(page, "Username").fill(username)
    field(page, "Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    wait_ready(page)


def create_first_admin_and_sign_in(page: Page, url: str, name: str = "Ada Lovelace") -> None:
    page.goto(url)
    wait_ready(page)
    field(page, "Your name").fill(name)
    field(page, "Username").fill("ada")
    field(page, "Password").fill(ADMIN_PASSWORD)
    field(page, "Repeat the password").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Create admin account").click()
    wait_ready(page)
    sign_in(page, "ada", ADMIN_PASSWORD)
    expect(page.get_by_role("heading", name=f"Welcome, {name}").first).to_be_visible()


def open_in_menu(page: Page, title: str) -> None:
    page.get_by_test_id("stSidebarNav").get_by_role("link", name=title).click()
    wait_ready(page)
