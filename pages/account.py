"""Account: who I am and changing my password."""

import streamlit as st

from components import api_tokens
from components.auth_gate import keep_signed_in_here
from components.feedback import friendly_errors
from components.session import require_page
from components.text import when
from services.access import users
from services.access.permissions import ROLE_LABELS

user = require_page("account")

st.title("My account")
st.text(f"Name: {user.name}\nUsername: {user.username}\nEmail: {user.email or '—'}")
st.caption(f"Role: {ROLE_LABELS[user.role]} · member since {when(user.created_at)}")

st.subheader("Change my password")
with st.form("account_password", clear_on_submit=True):
    current = st.text_input("Current password", type="password")
    new = st.text_input("New password", type="password", help=f"{users.PASSWORD_RULE}.")
    repeat = st.text_input("Repeat the new password", type="password")
    submitted = st.form_submit_button("Change password", type="primary")
if submitted:
    with friendly_errors("account_password"):
        if new != repeat:
            st.error("The two new passwords are not the same. Please type them again.")
        else:
            changed = users.change_password(user.username, current, new)
            keep_signed_in_here(changed)  # other browsers with this account are signed out
            st.success("Your password is changed. Use it next time you sign in. Any other "
                       "browser signed in as you has been signed out.")

api_tokens.show(user, key="account_tokens")
