"""The Admin page's Health tab body: each part Research Desk needs, in plain words, and
where a proxy should look. Call `show(user)` inside the tab."""

import streamlit as st

from components.text import escape_markdown
from services.access.users import UserView
from services.ops import health

STATUS_WORDS = {"ok": "Working", "warning": "Needs attention", "down": "Not working",
                "not_configured": "Not set up"}
ICONS = {"ok": ":material/check_circle:", "warning": ":material/warning:",
         "down": ":material/error:", "not_configured": ":material/remove_circle_outline:"}


def show(user: UserView) -> None:
    st.button("Check again", key="admin_health_again")  # a click reruns the checks
    report = health.health_for_admin(user)
    if report.ready:
        st.success("Research Desk is ready: people can sign in, open their work and upload.",
                   icon=":material/check_circle:")
    else:
        st.error("Research Desk cannot work right now: see what is not working below.",
                 icon=":material/error:")
    for name, part in report.parts.items():
        st.markdown(f"{ICONS[part.status]} **{health.LABELS[name]}: "
                    f"{STATUS_WORDS[part.status]}.** {escape_markdown(part.sentence)}")
    st.caption("A proxy or load balancer (nginx) should check /api/v1/health/ready: it "
               "answers 200 when Research Desk is ready and 503 when it is not.")
