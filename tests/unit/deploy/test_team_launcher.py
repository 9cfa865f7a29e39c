"""deploy/team.py without starting the real servers: the nginx configuration it writes, a
second start while one runs, ports already taken, and stopping only what it started."""

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from deploy import team
from deploy.team import TeamAlreadyRunning, TeamError, TeamPorts
from services.settings import PROJECT_ROOT

PORTS = TeamPorts(proxy=18680, apps=(18601, 18602), postgres=15441, redis=16390)


@pytest.fixture
def fake_app_server(tmp_path: Path) -> Iterator[tuple[Path, subprocess.Popen]]:
    """A process that looks like an app server `start_team` left running (pid file and all)."""
    folder = tmp_path / "team"
    (folder / "run").mkdir(parents=True)
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)",
                                "asgi:app"], start_new_session=True)
    (folder / "run" / "app-18601.pid").write_text(f"{process.pid}\n")
    (folder / "team.json").write_text('{"proxy": 18680}\n')
    try:
        yield folder, process
    finally:
        process.kill()
        process.wait()


def test_the_nginx_config_keeps_browsers_on_one_server_and_nginx_accepts_it(
        tmp_path: Path) -> None:
    text = team.nginx_config(tmp_path, PORTS, upload_limit_mb=2048)
    assert "@" not in text.replace("$", "")  # every placeholder filled in
    for line in ("hash $rd_route consistent;", "server 127.0.0.1:18601;",
                 "server 127.0.0.1:18602;", "listen 127.0.0.1:18680;",
                 "proxy_set_header Upgrade $http_upgrade;",
                 "proxy_set_header Connection $connection_upgrade;",
                 "proxy_read_timeout 86400s;", "proxy_request_buffering off;",
                 f"client_max_body_size {2048 + team.BODY_SLACK_MB}m;"):
        assert line in text
    for name in ("logs", "tmp"):
        (tmp_path / "nginx" / name).mkdir(parents=True)
    (tmp_path / "nginx" / "nginx.conf").write_text(text)
    checked = subprocess.run([*team._nginx_command(tmp_path), "-t"], capture_output=True,
                             text=True, check=False)
    assert checked.returncode == 0, checked.stderr


def test_the_readme_shows_the_nginx_block_make_team_uses() -> None:
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    shown = re.search(r"^```nginx\n(.*?)^```", readme, flags=re.S | re.M)
    assert shown, "README.md shows no nginx block"
    rendered = team.nginx_config(Path("/srv/team"), TeamPorts(), upload_limit_mb=2048)
    block = rendered.split("---- Research Desk")[1].split("\n", 1)[1]
    used = [line.strip() for line in block.splitlines()
            if line.strip() and not line.strip().startswith("#")][:-1]  # the last closes http
    assert [line.strip() for line in shown.group(1).splitlines() if line.strip()] == used


def test_a_second_start_says_so_and_starts_nothing(
        fake_app_server: tuple[Path, subprocess.Popen], capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    folder, process = fake_app_server

    def must_not_start() -> None:
        raise AssertionError("a second start went on to start servers")

    monkeypatch.setattr(team, "_check_tools", must_not_start)
    with pytest.raises(TeamAlreadyRunning, match="already running .* at "
                                                 "http://127.0.0.1:18680 .*make team-stop"):
        team.start_team(folder, PORTS)
    assert team.main(["start", "--folder", str(folder)]) == 0
    assert "already running" in capsys.readouterr().out
    assert not (folder / "postgres").exists() and process.poll() is None


def test_stop_ends_what_its_pid_files_name_and_nothing_else(
        fake_app_server: tuple[Path, subprocess.Popen], tmp_path: Path) -> None:
    folder, process = fake_app_server
    (folder / "run" / "app-18602.pid").write_text(f"{os.getpid()}\n")  # a stranger's pid now
    assert team.stop_team(folder) == ["app-18601"]
    process.wait(timeout=10)  # ended (its status was collected by the stop)
    assert team.stop_team(folder) == [] and team.running_parts(folder) == []


def test_ports_in_use_are_named_before_anything_starts(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        ports = TeamPorts(proxy=taken, apps=(18601, 18602), postgres=15441, redis=16390)
        started = time.monotonic()
        with pytest.raises(TeamError, match=f"already in use: nginx \\({taken}\\)"):
            team.start_team(tmp_path / "team", ports)
    assert time.monotonic() - started < 10
    assert not (tmp_path / "team").exists()


@pytest.mark.skipif(os.geteuid() != 0, reason="only root starts PostgreSQL as another user")
def test_a_folder_postgres_cannot_enter_is_named_before_anything_starts(
        tmp_path: Path) -> None:
    closed = tmp_path / "closed"
    closed.mkdir(mode=0o700)
    closed.chmod(0o700)
    with pytest.raises(TeamError, match=f"may not enter {closed}\\. Choose a team folder"):
        team.start_team(closed / "team", PORTS)
    assert not (closed / "team").exists()
