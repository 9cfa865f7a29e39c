"""Many sessions writing at once: nothing lost, nothing raised (one DuckDB per process)."""

from concurrent.futures import ThreadPoolExecutor

from services.access import audit, users
from services.access.audit import AuditFilter
from services.access.permissions import Role
from tests.factories import PASSWORD, make_admin, make_user


def test_sixteen_sessions_write_at_once_without_losing_anything() -> None:
    admin = make_admin()

    def session_work(index: int) -> str:
        person = make_user(admin, f"user{index:02d}", Role.ANALYST)
        for _ in range(5):
            users.verify_login(person.username, PASSWORD)
        return person.username

    with ThreadPoolExecutor(max_workers=16) as pool:
        created = list(pool.map(session_work, range(16)))

    assert sorted(created) == [f"user{i:02d}" for i in range(16)]
    assert len(users.list_users(admin)) == 17
    sign_ins = audit.list_entries(admin.role, AuditFilter(action="sign_in", limit=1000))
    assert len(sign_ins) == 16 * 5
