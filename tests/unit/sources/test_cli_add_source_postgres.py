"""`python -m services.cli add-source` (issue 21), run as an operator runs it: the password
from standard input, the connection tested first, never echoed, audited as "cli"."""

from sqlalchemy import select

from services.access import audit
from services.access.audit import AuditFilter
from services.store.db import session_scope
from services.store.models import DataSource
from tests.live_source import make_live_source
from tests.postgres_server import PostgresServer
from tests.unit.test_cli import _cli


def test_add_source_tests_first_and_keeps_the_password_sealed(
        postgres_server: PostgresServer) -> None:
    live = make_live_source(postgres_server)
    wrong = _cli("add-source", "warehouse", "--url", live.url(live.reader),
                 stdin="not-the-password\n")
    assert wrong.returncode == 1
    assert wrong.stderr.strip() == (
        f"The database refused the user name or password: check the user “{live.reader}” and "
        "its password. Nothing was added.")
    added = _cli("add-source", "warehouse", "--host", "127.0.0.1", "--port",
                 str(live.server.port), "--database", live.database, "--user", live.reader,
                 stdin=live.reader_password + "\n")
    assert added.returncode == 0, added.stderr
    assert added.stdout.startswith(f"Data source “warehouse” added: {live.database} on "
                                   f"127.0.0.1:{live.server.port} as {live.reader}.")
    assert "3 tables and views can be read in public" in added.stdout
    assert live.reader_password not in added.stdout + added.stderr
    with session_scope() as session:
        rows = session.scalars(select(DataSource)).all()
        assert [r.name for r in rows] == ["warehouse"]
        assert live.reader_password not in rows[0].url + rows[0].password_sealed
    entries = audit.list_entries("admin", AuditFilter(action="source_added"))
    assert [(e.actor, e.target_label) for e in entries] == [("cli", "warehouse")]
