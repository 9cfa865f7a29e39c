"""Admin: people and roles, the audit log, Claude's configuration status, data sources and
health."""

from datetime import datetime, time

import pandas as pd
import streamlit as st

from components import api_tokens, claude_admin, health_admin, sources_admin, tables
from components.feedback import flash, friendly_errors, show_flash
from components.session import require_page
from components.text import escape_markdown
from services.access import audit, users
from services.access.audit import ACTIONS, AuditFilter
from services.access.permissions import ROLE_LABELS, Role
from services.access.users import NewUser
from services.settings import get_settings, secrets_file_problem

user = require_page("admin")
# The "Add a person" fields and what they hold when empty. The form is emptied by setting
# these before it is drawn: removing a field's state resets it on the server only, and the
# browser would keep showing what was typed (the first password too).
NEW_PERSON_FIELDS = {"admin_new_name": "", "admin_new_username": "", "admin_new_email": "",
                     "admin_new_role": Role.ANALYST, "admin_new_password": ""}
EMPTY_PERSON_FORM = "admin_new_empty"

st.title("Admin")
show_flash()  # what the last change did (it reran the page)
if (secrets_problem := secrets_file_problem()) is not None:
    st.warning(escape_markdown(secrets_problem), icon=":material/key_off:")
# A key keeps the open tab when a message above the tabs comes and goes: without one, adding
# a data source (its message shows above) would jump back to the People tab.
people_tab, audit_tab, claude_tab, sources_tab, health_tab = st.tabs(
    ["People", "Audit log", "Claude", "Data sources", "Health"], key="admin_tab",
    on_change="rerun")

with people_tab, friendly_errors("admin_people"):
    accounts = users.list_users(user)
    tables.dataframe(
        pd.DataFrame(
            {
                "Username": [a.username for a in accounts],
                "Name": [a.name for a in accounts],
                "Email": [a.email for a in accounts],
                "Role": [a.role.value for a in accounts],
                "Status": ["disabled" if a.disabled else "active" for a in accounts],
                "Created": [a.created_at for a in accounts],
            }
        ),
        hide_index=True,
        column_config={"Created": st.column_config.DatetimeColumn(format="D MMM YYYY")},
    )

    add_column, manage_column = st.columns(2, gap="large")
    with add_column:
        st.subheader("Add a person")
        for field, empty in NEW_PERSON_FIELDS.items():
            if st.session_state.get(EMPTY_PERSON_FORM) or field not in st.session_state:
                st.session_state[field] = empty
        st.session_state.pop(EMPTY_PERSON_FORM, None)
        with st.form("admin_new_user", clear_on_submit=False):
            name = st.text_input("Name", max_chars=200, key="admin_new_name")
            username = st.text_input("Username", help=f"{users.USERNAME_RULE}.", max_chars=64,
                                     key="admin_new_username")
            email = st.text_input("Email (optional)", key="admin_new_email")
            role = st.selectbox(
                "Role",
                list(Role),
                format_func=lambda r: ROLE_LABELS[r],
                help="What this person may do. You can change it later.",
                key="admin_new_role",
            )
            password = st.text_input(
                "First password",
                type="password",
                help=f"{users.PASSWORD_RULE}. Share it privately; they can change it later.",
                key="admin_new_password",
            )
            created = st.form_submit_button("Add person", type="primary")
        if created:
            with friendly_errors("admin_create_user"):
                new_user = NewUser.parse(
                    username=username, name=name, email=email, password=password, role=role
                )
                users.create_user(user, new_user)
                flash(f"{new_user.name} can now sign in as “{new_user.username}”.")
                # an empty form for the next person; the password must not stay on screen
                st.session_state[EMPTY_PERSON_FORM] = True
                st.rerun()

    with manage_column:
        st.subheader("Change a person's access")
        chosen = st.selectbox(
            "Person",
            [a.username for a in accounts],
            key="admin_manage_user",
            help="Choose whose role, status or password to change.",
        )
        account = next(a for a in accounts if a.username == chosen)
        new_role: Role = (
            st.selectbox(
                "Role",
                list(Role),
                index=list(Role).index(account.role),
                format_func=lambda r: ROLE_LABELS[r],
                key=f"admin_role_{chosen}",
            )
            or account.role
        )
        role_column, status_column = st.columns(2)
        if role_column.button(
            "Save role", key="admin_save_role", disabled=new_role == account.role
        ):
            with friendly_errors("admin_role"):
                users.change_role(user, chosen, new_role)
                flash(f"{chosen} is now {new_role.value}.")
                st.rerun()
        status_label = "Enable account" if account.disabled else "Disable account"
        if status_column.button(status_label, key="admin_toggle_status"):
            with friendly_errors("admin_status"):
                users.set_disabled(user, chosen, not account.disabled)
                flash(f"{chosen}'s account is enabled again: they can sign in. Their old API "
                      "tokens stay revoked; they can create new ones."
                      if account.disabled
                      else f"{chosen}'s account is disabled: they can no longer sign in.")
                st.rerun()
        with st.form("admin_reset_password", clear_on_submit=True):
            new_password = st.text_input(
                f"New password for {chosen}", type="password", help=f"{users.PASSWORD_RULE}."
            )
            reset = st.form_submit_button("Reset password")
        if reset:
            with friendly_errors("admin_reset"):
                users.reset_password(user, chosen, new_password)
                st.success(f"The password of {chosen} is reset. Share it with them privately.")
        api_tokens.show_for_admin(user, chosen, key="admin_tokens")

with audit_tab, friendly_errors("admin_audit"):
    person_column, action_column, since_column, until_column = st.columns(4)
    person = person_column.selectbox(
        "Person", ["Everyone", *[a.username for a in accounts]], key="audit_person"
    )
    action = action_column.selectbox(
        "What happened",
        ["Anything", *ACTIONS],
        key="audit_action",
        format_func=lambda a: ACTIONS.get(a, a),
    )
    since = since_column.date_input("From", value=None, key="audit_since")
    until = until_column.date_input("Until", value=None, key="audit_until")
    entries = audit.list_entries(
        user.role,
        AuditFilter(
            actor=None if person == "Everyone" else person,
            action=None if action == "Anything" else action,
            since=datetime.combine(since, time.min) if since else None,
            until=datetime.combine(until, time.max) if until else None,
        ),
    )
    if not entries:
        st.info("No audit entries match these filters. Widen the dates or choose “Everyone”.")
    else:
        tables.dataframe(
            pd.DataFrame(
                {
                    "When": [e.created_at for e in entries],
                    "Who": [e.actor for e in entries],
                    "What": [e.action_label for e in entries],
                    "Target": [e.target for e in entries],
                    "Detail": [e.detail for e in entries],
                }
            ),
            hide_index=True,
            column_config={"When": st.column_config.DatetimeColumn(format="D MMM YYYY, HH:mm:ss")},
        )
        st.caption(f"{len(entries):,} entries, newest first.")

with claude_tab, friendly_errors("admin_claude"):
    settings = get_settings()
    if settings.has_claude_key:
        st.success(
            "An Anthropic API key is configured (it is never shown).", icon=":material/key:"
        )
    else:
        st.warning(
            "No Anthropic API key is configured. Set ANTHROPIC_API_KEY in the environment or in "
            ".streamlit/secrets.toml and restart; every non-AI feature works without it.",
            icon=":material/key_off:",
        )
    if settings.anthropic_base_url:
        st.write(f"API address: {settings.anthropic_base_url}")
    claude_admin.show(user)

with sources_tab, friendly_errors("admin_sources"):
    sources_admin.show(user)

with health_tab, friendly_errors("admin_health"):
    health_admin.show(user)
