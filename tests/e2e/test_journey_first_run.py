"""Journey 1: first run → admin → sign out/in → refresh → viewer cannot open Admin."""

from playwright.sync_api import Page, expect

from tests.e2e.conftest import (
    Server,
    assert_accessible,
    shoot,
    wait_for_sign_in_cookie,
    wait_ready,
)
from tests.e2e.helpers import (
    ADMIN_PASSWORD,
    add_person,
    field,
    open_in_menu,
    open_tab,
    sign_in,
    sign_in_refused,
)

VIEWER_PASSWORD = "amber-lighthouse-63"


def test_first_run_journey(server: Server, page: Page) -> None:
    page.goto(server.url)
    wait_ready(page)
    expect(page.get_by_text("Create the first admin account")).to_be_visible()
    shoot(page, "01_first_run")
    assert_accessible(page, "first run")

    field(page, "Your name").fill("Ada Lovelace")
    field(page, "Username").fill("ada")
    field(page, "Password").fill(ADMIN_PASSWORD)
    field(page, "Repeat the password").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Create admin account").click()
    wait_ready(page)
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    shoot(page, "02_sign_in")
    assert_accessible(page, "sign in")

    sign_in_refused(page, "ada", "wrong-password-9", "do not match")

    sign_in(page, "ada", ADMIN_PASSWORD)
    expect(page.get_by_role("heading", name="Welcome, Ada Lovelace").first).to_be_visible()
    expect(page.get_by_role("button", name="Sign in")).to_have_count(0)
    wait_for_sign_in_cookie(page)
    shoot(page, "03_home")
    assert_accessible(page, "home")

    page.reload()
    wait_ready(page)
    expect(page.get_by_role("heading", name="Welcome, Ada Lovelace").first).to_be_visible()

    open_in_menu(page, "Admin")
    expect(page.get_by_role("heading", name="Admin")).to_be_visible()
    add_person(page, "Vic Viewer", "vic", VIEWER_PASSWORD, "Viewer — reads shared work")
    expect(field(page, "First password")).to_have_value("")  # not kept on screen
    expect(field(page, "Username")).to_have_value("")  # an empty form for the next person
    shoot(page, "04_admin")
    assert_accessible(page, "admin")

    open_tab(page, "Audit log")
    audit = page.get_by_role("tabpanel", name="Audit log")
    expect(audit.get_by_test_id("stDataFrame")).to_be_visible()
    expect(audit.locator("td[role=gridcell]", has_text="Failed sign-in").first).to_be_attached()
    shoot(page, "04b_admin_audit")
    assert_accessible(page, "admin audit log")
    open_tab(page, "Claude")
    claude_tab = page.get_by_role("tabpanel", name="Claude")
    expect(claude_tab.get_by_text("No Anthropic API key is configured")).to_be_visible()
    shoot(page, "04c_admin_claude")
    assert_accessible(page, "admin claude settings")
    open_tab(page, "People")

    open_in_menu(page, "Account")
    expect(page.get_by_role("heading", name="My account")).to_be_visible()
    shoot(page, "05_account")
    assert_accessible(page, "account")

    page.get_by_role("button", name="Sign out").click()
    wait_ready(page)
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    wait_for_sign_in_cookie(page, present=False)
    page.reload()
    wait_ready(page)
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()

    sign_in(page, "vic", VIEWER_PASSWORD)
    expect(page.get_by_role("heading", name="Welcome, Vic Viewer").first).to_be_visible()
    nav = page.get_by_test_id("stSidebarNav")
    expect(nav.get_by_role("link", name="Admin")).to_have_count(0)
    wait_for_sign_in_cookie(page)
    page.goto(f"{server.url}/admin")
    wait_ready(page)
    expect(page.get_by_text("This page is not available to you")).to_be_visible()
    expect(page.get_by_text("Page not found")).to_have_count(0)  # a deep link finds its page
    expect(page.get_by_text("Add a person")).to_have_count(0)
    shoot(page, "06_viewer_refused")
    assert_accessible(page, "viewer refused")

    # a link opened while signed out: the sign-in form, then the linked page
    page.get_by_role("button", name="Sign out").click()
    wait_ready(page)
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    wait_for_sign_in_cookie(page, present=False)
    page.goto(f"{server.url}/datasets")
    wait_ready(page)
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    expect(page.get_by_text("Page not found")).to_have_count(0)
    sign_in(page, "vic", VIEWER_PASSWORD)
    expect(page.get_by_role("heading", name="Datasets", exact=True)).to_be_visible()
