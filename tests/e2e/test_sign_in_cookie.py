"""Issue 9, point 8 in a real browser: the sign-in cookie's flags, and a copied cookie that
stops working the moment its owner signs out."""

from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import COOKIE, Server, wait_for_sign_in_cookie, wait_ready
from tests.e2e.helpers import create_first_admin_and_sign_in


def test_a_copied_cookie_stops_working_after_sign_out(server: Server, page: Page,
                                                      browser: Browser) -> None:
    create_first_admin_and_sign_in(page, server.url)
    expect(page.get_by_role("heading", name="Welcome, Ada Lovelace").first).to_be_visible()
    wait_for_sign_in_cookie(page)
    cookie = next(c for c in page.context.cookies() if c["name"] == COOKIE)
    assert cookie["sameSite"] == "Strict"
    assert cookie["secure"] is False  # plain HTTP on a test machine; Secure over HTTPS

    thief = browser.new_context()
    try:
        thief.add_cookies([cookie])
        stolen = thief.new_page()
        stolen.goto(server.url)
        wait_ready(stolen)
        expect(stolen.get_by_role("heading", name="Welcome, Ada Lovelace").first).to_be_visible()

        page.get_by_role("button", name="Sign out").click()
        wait_ready(page)
        expect(page.get_by_role("button", name="Sign in")).to_be_visible()

        stolen.reload()  # a fresh page load: only the cookie could sign it in
        wait_ready(stolen)
        expect(stolen.get_by_role("button", name="Sign in")).to_be_visible()
        expect(stolen.get_by_role("heading", name="Welcome, Ada Lovelace")).to_have_count(0)
    finally:
        thief.close()
