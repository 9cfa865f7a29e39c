"""The operator's command line, run as an operator runs it: in a subprocess."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from services.access import api_tokens, audit, users
from services.access.audit import AuditFilter
from services.store.db import dispose_engines

ROOT = Path(__file__).resolve().parents[2]
STRONG = "plum-orchard-58"


def _cli(*args: str, stdin: str = "") -> subprocess.CompletedProcess:
    dispose_engines()  # the child process must be the only one writing the metadata file
    result = subprocess.run([sys.executable, "-m", "services.cli", *args], cwd=ROOT,
                            input=stdin, text=True, capture_output=True, env=dict(os.environ),
                            timeout=120)
    dispose_engines()
    return result


def test_help_for_every_command() -> None:
    helps = {command: _cli(command, "--help")
             for command in ("create-admin", "create-token", "revoke-tokens", "migrate")}
    for result in helps.values():
        assert result.returncode == 0 and "usage:" in result.stdout
    assert "password" in helps["create-admin"].stdout.lower()
    assert _cli().returncode == 2  # no command: argparse's usage error


def test_the_command_line_starts_without_pandas() -> None:
    # pandas is a second of every command's start-up; only a restore into DuckDB and a query
    # on a data source need it, and they import it when they run.
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, services.cli; print('pandas' in sys.modules)"],
        cwd=ROOT, text=True, capture_output=True, timeout=120)
    assert loaded.stdout.strip() == "False", loaded.stderr


def test_create_admin_token_and_revoke_audited(data_dir: Path) -> None:
    made = _cli("create-admin", "root.admin", "--name", "Root Admin", stdin=STRONG + "\n")
    assert made.returncode == 0, made.stderr
    assert STRONG not in made.stdout + made.stderr
    assert users.verify_login("root.admin", STRONG).role == "admin"

    second = _cli("create-admin", "second", stdin=STRONG + "\n")
    assert second.returncode == 0, second.stderr

    token = _cli("create-token", "root.admin", "--name", "nightly", "--expires-in-days", "30")
    assert token.returncode == 0, token.stderr
    secret = token.stdout.split()[0]
    assert secret.startswith("rdk_") and "shown only once" in token.stdout
    assert api_tokens.authenticate(secret).user.username == "root.admin"

    revoked = _cli("revoke-tokens", "root.admin")
    assert revoked.returncode == 0 and "Revoked 1 token" in revoked.stdout
    dispose_engines()
    try:
        api_tokens.authenticate(secret)
        raise AssertionError("a revoked token still works")
    except Exception as error:  # noqa: BLE001 - AuthenticationFailed expected
        assert "not valid" in str(error)
    entries = audit.list_entries("admin", AuditFilter())
    by_action = {(e.action, e.actor) for e in entries}
    assert {("user_created", "root.admin"), ("user_created", "cli"),
            ("api_token_created", "cli"), ("api_tokens_revoked", "cli")} <= by_action


def test_weak_passwords_and_unknown_people_are_refused(data_dir: Path) -> None:
    weak = _cli("create-admin", "root.admin", stdin="password123\n")
    assert weak.returncode == 1 and weak.stderr.strip() and "Traceback" not in weak.stderr
    assert not users.has_users()
    assert _cli("create-admin", "Bad Name!", stdin=STRONG + "\n").returncode == 1
    missing = _cli("create-token", "nobody", "--name", "x")
    assert missing.returncode == 1 and "nobody" in missing.stderr
    assert _cli("revoke-tokens", "nobody").returncode == 1
    assert _cli("create-token", "nobody").returncode == 2  # --name is required


@pytest.mark.duckdb_only(reason="the DuckDB file it makes; `migrate` on PostgreSQL is "
                                "tests/unit/store/test_migrations_postgres.py")
def test_migrate_brings_a_new_store_to_the_newest_revision(data_dir: Path) -> None:
    done = _cli("migrate")
    assert done.returncode == 0, done.stderr
    assert "up to date" in done.stdout
    assert (data_dir / "metadata.duckdb").exists()
    assert _cli("migrate").returncode == 0  # again: nothing to do, still fine
