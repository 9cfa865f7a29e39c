"""Research Desk entry point: page config, storage check, sign-in gate, role-based navigation."""

from pathlib import Path

import streamlit as st
from streamlit.navigation.page import StreamlitPage

from components.auth_gate import (
    build_authenticator,
    first_run,
    go_to_front_door_to_sign_out,
    sign_out_button,
    signed_in_user,
)
from components.feedback import friendly_errors
from components.text import escape_markdown
from services.access.permissions import can_open
from services.access.users import has_users
from services.claude import wiring as claude_wiring
from services.data.datasets import remove_partial_files
from services.errors import StorageUnavailable
from services.logs import configure_logging
from services.prompts.runner import start_resume_loop
from services.store.db import get_engine

st.set_page_config(page_title="Research Desk", page_icon=":material/science:", layout="wide")
configure_logging()

# key, file, title, icon, shown in the menu
PAGES = [
    ("home", "pages/home.py", "Home", ":material/home:", True),
    ("datasets", "pages/datasets.py", "Datasets", ":material/table_view:", True),
    ("dataset", "pages/dataset.py", "Dataset", ":material/dataset:", False),
    ("explore", "pages/explore.py", "Explore", ":material/bar_chart:", True),
    ("ask", "pages/ask.py", "Ask", ":material/forum:", True),
    ("research", "pages/research.py", "Research", ":material/science:", True),
    ("research_item", "pages/research_item.py", "Research item", ":material/article:", False),
    ("boards", "pages/boards.py", "Boards", ":material/dashboard:", True),
    ("prompt_lab", "pages/prompt_lab.py", "Prompt lab", ":material/auto_awesome:", True),
    ("usage", "pages/usage.py", "Usage", ":material/monitoring:", True),
    ("account", "pages/account.py", "Account", ":material/person:", True),
    ("admin", "pages/admin.py", "Admin", ":material/admin_panel_settings:", True),
]


@st.cache_resource(show_spinner=False)
def _start_up() -> None:
    """Once per process: migrate the metadata store, tidy up after any crash, and carry on
    batches whose server stopped (now and every few seconds)."""
    get_engine()
    remove_partial_files()
    claude_wiring.install()
    start_resume_loop()


def _storage_ready() -> bool:
    try:
        _start_up()
    except StorageUnavailable as error:
        st.title("Research Desk cannot start")
        st.error(str(error), icon=":material/database:")
        return False
    return True


def _navigation(role: str) -> StreamlitPage:
    pages = []
    for key, path, title, icon, in_menu in PAGES:
        # Pages a role may not open stay routable but hidden, so a typed URL gets the page's
        # own polite refusal instead of a silent redirect.
        visible = in_menu and can_open(role, key)
        pages.append(
            st.Page(path, title=title, icon=icon, default=key == "home",
                    visibility="visible" if visible else "hidden")
        )
    return st.navigation(pages)


def _gate() -> None:
    """Stands in while nobody is signed in (first run, sign-in, storage errors)."""


def _gate_navigation() -> StreamlitPage:
    """Routing is always ours: hidden stand-ins registered first stop Streamlit from listing
    the files in pages/ before anyone has signed in. There is one per page address, so a
    link like /explore?chart=… opened in a new tab finds its page while the sign-in cookie
    is still being read (no "Page not found"), and lands there after signing in."""
    stand_ins = [st.Page(_gate, title="Research Desk", default=True)]
    stand_ins += [st.Page(_gate, title=title, url_path=Path(path).stem)
                  for key, path, title, _, _ in PAGES if key != "home"]
    st.navigation(stand_ins, position="hidden")
    return stand_ins[0]


front_door = _gate_navigation()

with friendly_errors("app"):
    if not _storage_ready():
        st.stop()
    if not has_users():
        first_run()
        st.stop()
    go_to_front_door_to_sign_out(front_door)
    authenticator = build_authenticator()
    user = signed_in_user(authenticator)
    if user is None:
        st.stop()
    with st.sidebar:
        st.markdown(f"**{escape_markdown(user.name)}**")
        st.caption(f"Signed in as {user.username} · {user.role.value}")
    sign_out_button()
    _navigation(user.role.value).run()
