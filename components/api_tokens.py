"""The Account page's API tokens: create one (shown once), see them, revoke them."""

import streamlit as st

from components.feedback import friendly_errors
from components.text import escape_markdown, when
from services.access import api_tokens
from services.access.users import UserView
from services.data.display_text import counted

EXPIRY_CHOICES: dict[str, int | None] = {
    "Never": None, "After 30 days": 30, "After 90 days": 90, "After a year": 365,
}
SHOWN_ONCE = "account_tokens_new_secret"


def show(user: UserView, *, key: str = "account_tokens") -> None:
    st.subheader("API tokens")
    st.caption("A token lets a script or notebook use Research Desk as you, with your role, "
               "through the API at /api/v1 (see /api/docs). Keep it like a password.")
    with st.form(f"{key}_create", clear_on_submit=True):
        name = st.text_input("Token name", max_chars=api_tokens.MAX_NAME,
                             placeholder="e.g. nightly export")
        expiry = st.selectbox("Expires", list(EXPIRY_CHOICES))
        created = st.form_submit_button("Create token")
    if created:
        with friendly_errors(f"{key}_create"):
            new = api_tokens.create_token(user, name, expires_in_days=EXPIRY_CHOICES[expiry])
            st.session_state[SHOWN_ONCE] = new.secret
    secret = st.session_state.pop(SHOWN_ONCE, None)
    if secret:
        st.success("Your new token is below. Copy it now: it is shown only once.",
                   icon=":material/key:")
        st.code(secret, language=None)
    _token_list(user, key=key)


def _token_list(user: UserView, *, key: str) -> None:
    tokens = api_tokens.list_tokens(user)
    if not tokens:
        st.caption("You have no API tokens yet.")
        return
    for token in tokens:
        left, right = st.columns([4, 1], vertical_alignment="center")
        state = ("revoked" if token.revoked_at else "expired" if token.is_expired
                 else "active")
        expires = f" · expires {when(token.expires_at)}" if token.expires_at else ""
        left.markdown(
            f"**{escape_markdown(token.name)}** `{token.hint}…` · {state}  \n"
            f"created {when(token.created_at)} · last used "
            f"{when(token.last_used_at) if token.last_used_at else 'never'}{expires}")
        if token.is_active and right.button("Revoke", key=f"{key}_revoke_{token.id}"):
            with friendly_errors(f"{key}_revoke"):
                api_tokens.revoke_token(user, token.id)
                st.rerun()


def show_for_admin(admin: UserView, username: str, *, key: str = "admin_tokens") -> None:
    """On the Admin page: how many API tokens a person has, and revoking them all."""
    active = [t for t in api_tokens.list_tokens(admin, username) if t.is_active]
    st.caption(f"{username} has {counted(len(active), 'active API token')}.")
    if active and st.button(f"Revoke every API token of {username}", key=f"{key}_{username}"):
        with friendly_errors(key):
            count = api_tokens.revoke_all(admin, username)
            st.success(f"{counted(count, 'API token')} of {username} "
                       f"{'no longer works' if count == 1 else 'no longer work'}.")
