"""Shared steps of the browser journeys: accounts and datasets prepared in the test process,
signing in and moving between pages in Chromium."""

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Locator, Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from services.access import users
from services.access.permissions import Role
from services.access.users import NewUser, UserView
from services.data import datasets
from services.data.datasets import DatasetView
from services.settings import reset_settings_cache
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


def _sign_in_form(page: Page) -> Locator:
    return page.get_by_test_id("stForm").filter(
        has=page.get_by_role("button", name="Sign in", exact=True))


def _send_sign_in_form(page: Page, username: str, password: str) -> None:
    """Fill and send the sign-in form. The page reruns on its own around signing in (the
    first-run form is replaced, the cookie component reports back), and for a moment such
    a rerun can show the form twice: then it is filled again once the page has settled."""
    form = _sign_in_form(page)
    for _ in range(5):
        wait_ready(page)
        try:
            expect(form).to_have_count(1, timeout=15_000)
            form.get_by_role("textbox", name="Username", exact=True).fill(username, timeout=5_000)
            form.get_by_role("textbox", name="Password", exact=True).fill(password, timeout=5_000)
            form.get_by_role("button", name="Sign in", exact=True).click(timeout=5_000)
        except (PlaywrightError, AssertionError):
            continue
        wait_ready(page)
        return
    raise AssertionError("the sign-in form never settled on the page")


def sign_in(page: Page, username: str, password: str) -> None:
    """Sign in through the form; a click a rerun swallowed is sent again, as a person would."""
    for _ in range(3):
        _send_sign_in_form(page, username, password)
        try:
            expect(_sign_in_form(page)).to_have_count(0, timeout=10_000)
            return
        except AssertionError:
            continue
    raise AssertionError(f"the sign-in form did not go away after signing in as {username}")


def sign_in_refused(page: Page, username: str, password: str, message: str) -> None:
    """Send the sign-in form with a wrong password and see the refusal."""
    _send_sign_in_form(page, username, password)
    expect(page.get_by_text(message)).to_be_visible()
    expect(_sign_in_form(page)).to_have_count(1)


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


def open_tab(page: Page, name: str) -> None:
    """Open a tab and wait until its run has finished. A tab that runs only when open
    (`on_change="rerun"`) reruns the page; Streamlit sends each run's open tab back, so a
    click on another tab while that run is still going can be turned back by it (seen on a
    loaded machine: Versions clicked 0.5 s after Quality stayed on Quality). A person
    waits for the page, then clicks; so does the journey."""
    tab = page.get_by_role("tab", name=name, exact=True)
    tab.click()
    wait_ready(page)
    expect(tab).to_have_attribute("aria-selected", "true")


COOKIE_COMPONENT = "iframe[title='extra_streamlit_components.CookieManager.cookie_manager']"


def wait_until_settled(page: Page) -> None:
    """The page has settled and no sign-in cookie write is under way: the writer's frame
    answers once it has written the cookie, and that answer reruns the page, which can land
    on a click. The frame is drawn only until a run after that answer."""
    wait_ready(page)
    expect(page.locator(COOKIE_COMPONENT)).to_have_count(0)
    wait_ready(page)


def create_first_admin(page: Page, url: str, name: str = "Ada Lovelace") -> None:
    """The first-run form in the browser; the sign-in form follows."""
    page.goto(url)
    wait_ready(page)
    field(page, "Your name").fill(name)
    field(page, "Username").fill("ada")
    field(page, "Password").fill(ADMIN_PASSWORD)
    field(page, "Repeat the password").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Create admin account").click()
    wait_ready(page)


def create_first_admin_and_sign_in(page: Page, url: str, name: str = "Ada Lovelace") -> None:
    """The first-run form in the browser, then signing in as that admin."""
    create_first_admin(page, url, name)
    sign_in(page, "ada", ADMIN_PASSWORD)
    expect(page.get_by_role("heading", name=f"Welcome, {name}").first).to_be_visible()


def add_person(page: Page, name: str, username: str, password: str, role: str) -> None:
    """Admin → People, as an admin adds someone: name, username, first password and a role
    ("Viewer — reads shared work"); the person is in the table afterwards."""
    field(page, "Name").fill(name)
    field(page, "Username").fill(username)
    field(page, "First password").fill(password)
    form = page.get_by_test_id("stForm").filter(has=page.get_by_role("button", name="Add person"))
    form.get_by_test_id("stSelectbox").click()
    page.get_by_role("option", name=role).click()
    page.get_by_role("button", name="Add person").click()
    wait_ready(page)
    expect(page.locator("td[role=gridcell]", has_text=username).first).to_be_attached()


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
