"""Ask's SQL tab: one read-only query typed by the person, run by the Ask service in the same
locked-down sandbox as Claude's queries. A fragment: typing and running a query reruns only
this tab, not the conversation beside it."""

import streamlit as st

from components import ask_tables, chat
from components.feedback import friendly_errors
from services.access.users import UserView
from services.claude import ask_tables as ask_table_rules
from services.claude import ask_turns
from services.claude.ask import AskTable
from services.settings import get_settings

SQL_RESULT = "ask_sql_result"


@st.fragment
def show(user: UserView, tables: list[AskTable], picked_ids: list[int]) -> None:
    settings = get_settings()
    where = ("on the live datasets' database, read-only, as Claude's queries do"
             if any(t.live is not None for t in tables)
             else "in the same locked-down sandbox as Claude's queries")
    st.caption("Write one read-only query (SELECT or WITH … SELECT) over the table names "
               f"listed above. It runs {where}, with "
               f"a {settings.query_timeout_s:,.0f}-second time limit and at most "
               f"{settings.query_max_rows:,} rows.")
    sql_text = st.text_area(
        "SQL query", value=ask_table_rules.example_sql(tables), height=160,
        key="ask_sql_text",
        help="DuckDB SQL. Only reading is allowed: queries that change data, read files or "
             "settings are refused with an explanation.")
    if st.button("Run query", type="primary", key="ask_sql_run", icon=":material/play_arrow:"):
        st.session_state.pop(SQL_RESULT, None)
        with friendly_errors("ask_sql"):
            st.session_state[SQL_RESULT] = ask_turns.run_sql(
                user, sql_text, picked_ids, profile_of=ask_tables.cached_profile)
    ran = st.session_state.get(SQL_RESULT)
    if ran is not None:
        chat.show_table(ran.frame, ran.total_rows, key="ask_sql", counted=ran.rows_counted)
        st.caption(f"The query ran in {ran.elapsed_ms:,.0f} ms.")
