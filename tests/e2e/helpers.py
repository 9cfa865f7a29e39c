"""Shared steps of the browser journeys: accounts and datasets prepared in the test process,
signing in and moving between pages in Chromium."""

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Locator, Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from services.access import users
from services.access.permissions import Role
from services.access.users import NewUser, UserView
from services.settings import reset_settings_cache
from services.store import datasets
from services.store.datasets import DatasetView
from services.store.db import dispose_engines
from tests.e2e.conftest import wait_ready

ADMIN_PASSWORD = "first-admin-pass-1"


@contextmanager
def store_of(data_dir: Path) -> Iterator[None]:
    """Services called in the block use the store in `data_dir`; it is closed afterwards, as
    the metadata DuckDB file can be written by one process only (then the server's)."""
    previous = os.environ.get("RESEARCH_DESK_DATA_DIR")
    os.environ["RESEARCH_DESK_DATA_DIR"] = str(data_dir)
    reset_settings_cache()
    dispose_engines()
    try:
        yield
    finally:
        dispose_engines()
        if previous is None:
            os.environ.pop("RESEARCH_DESK_DATA_DIR", None)
        else:
            os.environ["RESEARCH_DESK_DATA_DIR"] = previous
        reset_settings_cache()


def prepare_data_dir(data_dir: Path, *, samples: tuple[str, ...] = (),
                     seed: Callable[[UserView], None] | None = None,
                     ) -> tuple[UserView, list[DatasetView]]:
    """Create the first admin (and sample datasets, and whatever `seed` adds as that admin)
    through the services, before `streamlit run` starts."""
    with store_of(data_dir):
        admin = users.create_first_admin(NewUser(username="ada", name="Ada Lovelace",
                                                 password=ADMIN_PASSWORD, role=Role.ADMIN))
        created = [datasets.create_from_sample(admin, name) for name in samples]
        if seed is not None:
            seed(admin)
    return admin, created


def field(page: Page, label: str) -> Locator:
    return page.get_by_role("textbox", name=label, exact=True)


def sign_in(page: Page, username: str, password: str) -> None:
    # the first-run form has Username and Password fields too: wait until it is replaced
    # (while a rerun swaps the forms, both can be on the page for a moment)
    expect(page.get_by_role("button", name="Sign in").first).to_be_visible()
    expect(field(page, "Repeat the password")).to_have_count(0)
    expect(field(page, "Password")).to_have_count(1)
    expect(page.get_by_role("button", name="Sign in")).to_have_count(1)
    field(page, "Username").fill(username)
    field(page, "Password").fill(password)
    button = page.get_by_role("button", name="Sign in")
    button.click()
    wait_ready(page)
    try:
        expect(button).to_be_hidden(timeout=10_000)
    except AssertionError:  # a rerun on a loaded machine swallowed the click: press again
        button.click()
        wait_ready(page)


def open_signed_in(page: Page, url: str, username: str = "ada",
                   password: str = ADMIN_PASSWORD) -> None:
    """Open the app and sign in through its form."""
    page.goto(url)
    wait_ready(page)
    sign_in(page, username, password)


def open_in_menu(page: Page, title: str) -> None:
    """Click a page in the sidebar and wait until it is the current page. Right after
    signing in, the cookie component's own rerun can land on top of a click made in the
    same instant on a slow machine; one more click is what a person would do too."""
    link = page.get_by_test_id("stSidebarNav").get_by_role("link", name=title)
    link.click()
    wait_ready(page)
    try:
        expect(link).to_have_attribute("aria-current", "page", timeout=10_000)
    except AssertionError:
        link.click()
        wait_ready(page)
        expect(link).to_have_attribute("aria-current", "page")


def create_first_admin_and_sign_in(page: Page, url: str, name: str = "Ada Lovelace") -> None:
    """The first-run form in the browser, then signing in as that admin."""
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


def choose_option(page: Page, selectbox: Locator, option: str) -> None:
    """Pick an option of a selectbox. A rerun that lands just after the click closes the
    list again, so the list is opened once more when the option did not appear."""
    wanted = page.get_by_role("option", name=option, exact=True)
    for attempt in range(3):
        selectbox.click()
        try:
            wanted.click(timeout=5_000)
            return
        except PlaywrightTimeoutError:
            pass
        page.keyboard.press("ArrowDown")  # the focused list opens from the keyboard too
        try:
            wanted.click(timeout=5_000)
            return
        except PlaywrightTimeoutError:
            if attempt == 2:
                raise
            page.keyboard.press("Escape")
