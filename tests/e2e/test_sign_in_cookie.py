"""Issue 9, point 8 in a real browser: the sign-in cookie's flags, and a copied cookie that
stops working the moment its owner signs out."""

from playwright.sync_api import Browser, Page, Route, expect
from playwright.sync_api import Error as PlaywrightError

from tests.e2e.conftest import COOKIE, Server, wait_for_sign_in_cookie, wait_ready
from tests.e2e.helpers import (
    ADMIN_PASSWORD,
    create_first_admin,
    create_first_admin_and_sign_in,
    open_in_menu,
    sign_in,
)


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


def test_the_cookie_is_written_even_when_a_rerun_comes_before_its_frame(
        server: Server, page: Page) -> None:
    """A person who clicks on at once after signing in (or a rerun the page asked for just
    before) must not lose the cookie: its frame is held back until after that rerun."""
    held: list[Route] = []
    create_first_admin(page, server.url)
    wait_ready(page)
    # no cookie component on the sign-in page (the app draws no cookie reader), so the
    # first request for the component's files is the writer's
    expect(page.locator("iframe[title*='cookie_manager']")).to_have_count(0)
    # from here the cookie component's files wait: the writer's frame cannot load
    page.route("**/component/*cookie_manager*/**", lambda route: held.append(route))
    sign_in(page, "ada", ADMIN_PASSWORD)
    open_in_menu(page, "Datasets")  # a rerun while the writer's frame is still loading
    expect(page.get_by_role("heading", name="Datasets", exact=True)).to_be_visible()
    assert held, "the writer's frame should have asked for its files"
    page.unroute("**/component/*cookie_manager*/**")
    for route in held:
        try:
            route.continue_()
        except PlaywrightError:  # its frame is gone: the request was cancelled with it
            pass
    wait_for_sign_in_cookie(page)
    page.reload()  # and the cookie signs the person back in
    wait_ready(page)
    expect(page.get_by_role("heading", name="Datasets", exact=True)).to_be_visible()
