"""A local team set-up on this machine, all on loopback (`make team`, `make team-stop`).

    python -m deploy.team start [--folder data/team] [--port 8680] [--app-ports 8601,8602]
                                [--postgres-port 5441] [--redis-port 6390]
    python -m deploy.team stop [--folder data/team]

PostgreSQL 15 holds the metadata, Redis the job queue and the shared limits, two (or more)
app servers (`uvicorn asgi:app`) share one data folder, one Celery worker runs batches, and
nginx in front keeps each browser on one server. Everything lives in the team folder:

    cookie-key, postgres-password   secrets generated once (owner-only files)
    postgres/   the PostgreSQL cluster and its log    redis/    Redis's append-only file
    data/       the shared data folder                nginx/    nginx.conf, logs, temp files
    logs/       app servers', worker's, Redis's logs  run/      pid files of what was started
    team.json   the ports in use, for `stop` and for a second `start`

The data stays between runs; `stop` ends only what `start` started (its pid files).
"""

import argparse
import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = Path(__file__).resolve().parent / "nginx.conf.template"
DEFAULT_FOLDER = ROOT / "data" / "team"
PG_BIN = Path("/usr/lib/postgresql/15/bin")
# Debian's places; /usr/sbin is not on every user's PATH.
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
DATABASE = "rd"
READY_PATH = "/api/v1/health/ready"
# Room for the multipart form around an uploaded file of exactly the app's limit.
BODY_SLACK_MB = 16
# What a pid file's process must be running, so a stale pid file never ends a stranger.
MARKERS = {"app": "asgi:app", "worker": "celery", "redis": "redis-server"}


class TeamError(Exception):
    """The team set-up could not start or stop; the message says why in plain words."""


class TeamAlreadyRunning(TeamError):
    pass


@dataclass(frozen=True)
class TeamPorts:
    proxy: int = 8680
    apps: tuple[int, ...] = (8601, 8602)
    postgres: int = 5441
    redis: int = 6390

    def all(self) -> list[tuple[str, int]]:
        named = [("nginx", self.proxy), ("PostgreSQL", self.postgres), ("Redis", self.redis)]
        return named + [(f"app server {i + 1}", port) for i, port in enumerate(self.apps)]


@dataclass
class TeamHandle:
    folder: Path
    ports: TeamPorts
    env: dict[str, str] = field(repr=False)  # what the app servers and the worker run with

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.ports.proxy}"

    def app_url(self, index: int) -> str:
        """One app server directly, bypassing nginx."""
        return f"http://127.0.0.1:{self.ports.apps[index]}"

    @property
    def data_dir(self) -> Path:
        return Path(self.env["RESEARCH_DESK_DATA_DIR"])

    @property
    def database_url(self) -> str:
        return self.env["RESEARCH_DESK_DATABASE_URL"]

    @property
    def redis_url(self) -> str:
        return self.env["RESEARCH_DESK_REDIS_URL"]

    @property
    def access_log(self) -> Path:
        return self.folder / "nginx" / "logs" / "access.log"

    def log(self, name: str) -> Path:
        """logs/<name>.log: `app-8601`, `worker`, `redis`."""
        return self.folder / "logs" / f"{name}.log"

    def worker_running(self) -> bool:
        return _alive_pid_file(self.folder / "run" / "worker.pid", MARKERS["worker"])


# ---- small helpers -------------------------------------------------------------------


def _as_root() -> bool:
    return os.geteuid() == 0


def _as_postgres(command: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: as root, its tools run as the `postgres` user."""
    return ["runuser", "-u", "postgres", "--", *command] if _as_root() else command


def _run(command: list[str], what: str, **kwargs: object) -> None:
    done = subprocess.run(command, capture_output=True, text=True, check=False,
                          **kwargs)  # type: ignore[call-overload]
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()[-5:]
        raise TeamError(f"{what} failed: " + " / ".join(detail))


def _secret_file(path: Path, *, owner: str | None = None) -> str:
    """A secret made once and kept in an owner-only file (read back on later starts)."""
    if not path.exists():
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_hex(32))
    if owner is not None:
        shutil.chown(path, owner, owner)
    return path.read_text().strip()


def _port_taken(port: int) -> bool:
    with socket.socket() as probe:
        # as the servers themselves do: a port whose last connections linger (TIME_WAIT)
        # after a stop is free for a new listener
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def _process_alive(pid: int, marker: str) -> bool:
    """Running (not a zombie) and running `marker`: a reused pid is someone else's."""
    try:
        os.waitpid(pid, os.WNOHANG)  # reaps it when this process started it and it ended
    except ChildProcessError:
        pass
    for _ in range(40):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
            command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            return False
        if stat.rsplit(")", 1)[-1].split()[0] in ("Z", "X"):
            return False
        if command:
            return marker in command
        time.sleep(0.05)  # a process that is only just starting shows no command line yet
    return False


def _read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def _alive_pid_file(path: Path, marker: str) -> bool:
    pid = _read_pid(path)
    return pid is not None and _process_alive(pid, marker)


def _pid_files(folder: Path) -> Iterator[tuple[Path, str]]:
    for path in sorted((folder / "run").glob("*.pid")):
        kind = path.stem.split("-")[0]
        if kind in MARKERS:
            yield path, MARKERS[kind]


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=3) as response:
            return int(response.status) == 200
    except OSError:
        return False


def _last_lines(path: Path, count: int = 15) -> str:
    try:
        lines = path.read_text(errors="replace").splitlines()[-count:]
    except OSError:
        return "(no log)"
    return "\n".join(lines)


# ---- the parts ------------------------------------------------------------------------


def _check_tools() -> None:
    missing = [package for tool, package in ((PG_BIN / "initdb", "postgresql-15"),
                                             (Path(REDIS_SERVER), "redis-server"),
                                             (Path(NGINX), "nginx"))
               if not tool.exists()]
    if missing:
        raise TeamError("The team set-up needs these Debian packages: "
                        f"{', '.join(missing)} (apt-get install -y {' '.join(missing)}).")


def _check_ports(ports: TeamPorts) -> None:
    taken = [f"{name} ({port})" for name, port in ports.all() if _port_taken(port)]
    if taken:
        raise TeamError("These ports are already in use: " + ", ".join(taken) + ". Choose "
                        "others, e.g. `make team TEAM_PORT=8780 TEAM_APP_PORTS=8701,8702 "
                        "TEAM_POSTGRES_PORT=5541 TEAM_REDIS_PORT=6490`.")
    if len(set(port for _, port in ports.all())) != len(ports.all()):
        raise TeamError("Each part of the team set-up needs its own port; two are the same.")


def _check_reachable(folder: Path) -> None:
    """As root, PostgreSQL runs as the user postgres, which must pass through every folder
    above the team folder (initdb would only say "Permission denied")."""
    if not _as_root():
        return
    closed = [p for p in folder.parents if p.exists() and not p.stat().st_mode & 0o001]
    if closed:
        raise TeamError(f"PostgreSQL runs as the user postgres, which may not enter "
                        f"{closed[0]}. Choose a team folder others may pass through (e.g. "
                        f"`make team TEAM_DIR=/tmp/rd-team`) or allow it: "
                        f"`chmod o+x {closed[0]}`.")


def _prepare_folder(folder: Path) -> None:
    for name in ("logs", "run", "data", "redis", "nginx/logs", "nginx/tmp"):
        (folder / name).mkdir(parents=True, exist_ok=True)
        if name in ("logs", "run", "data", "redis"):
            os.chmod(folder / name, 0o700)
    # As root, PostgreSQL (user postgres) and nginx's workers (user nobody) must pass
    # through the team folder; they may not list it, and its secrets are owner-only.
    os.chmod(folder, 0o711 if _as_root() else 0o700)


def _start_postgres(folder: Path, port: int) -> str:
    """The cluster in postgres/ (made on the first start), running; returns the URL."""
    pg = folder / "postgres"
    pg.mkdir(exist_ok=True, mode=0o700)
    owner = "postgres" if _as_root() else None
    if owner:
        shutil.chown(pg, owner, owner)
    password = _secret_file(folder / "postgres-password")
    if not (pg / "data" / "PG_VERSION").exists():
        pwfile = pg / "initdb-password"
        pwfile.write_text(password)
        os.chmod(pwfile, 0o600)
        if owner:
            shutil.chown(pwfile, owner, owner)
        try:
            _run(_as_postgres([str(PG_BIN / "initdb"), "-D", str(pg / "data"), "-U", "postgres",
                               f"--pwfile={pwfile}", "--auth-host=scram-sha-256",
                               "--auth-local=peer", "-E", "UTF8", "--no-instructions"]),
                 "Setting up PostgreSQL (initdb)")
        finally:
            pwfile.unlink(missing_ok=True)
    _run(_as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(pg / "data"), "-l",
                       str(pg / "postgres.log"), "-w", "-t", "60", "start",
                       "-o", f"-h 127.0.0.1 -p {port} -k {pg}"]),
         f"Starting PostgreSQL (see {pg / 'postgres.log'})")
    _create_database(port, password)
    return f"postgresql+psycopg://postgres:{password}@127.0.0.1:{port}/{DATABASE}"


def _create_database(port: int, password: str) -> None:
    import psycopg

    with psycopg.connect(host="127.0.0.1", port=port, user="postgres", password=password,
                         dbname="postgres", autocommit=True) as connection:
        found = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                                   (DATABASE,)).fetchone()
        if found is None:
            connection.execute(f"CREATE DATABASE {DATABASE}".encode())


def _stop_postgres(folder: Path) -> bool:
    data = folder / "postgres" / "data"
    if not (data / "postmaster.pid").exists():
        return False
    _run(_as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "-t", "60",
                       "stop"]), "Stopping PostgreSQL")
    return True


def _spawn(folder: Path, name: str, command: list[str], env: Mapping[str, str]) -> int:
    """A process in its own session (it outlives `make team`; stopping it ends its children
    too), its output in logs/<name>.log and its pid in run/<name>.pid."""
    with (folder / "logs" / f"{name}.log").open("ab") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=dict(env), stdout=log,
                                   stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   start_new_session=True)
    (folder / "run" / f"{name}.pid").write_text(f"{process.pid}\n")
    return process.pid


def _start_redis(folder: Path, port: int) -> str:
    password = _secret_file(folder / "redis-password")
    config = folder / "redis" / "redis.conf"
    # The password goes in a file, not on the command line where `ps` would show it.
    config.write_text(f"port {port}\nbind 127.0.0.1\ndir {folder / 'redis'}\n"
                      f"requirepass {password}\nappendonly yes\nsave \"\"\n")
    os.chmod(config, 0o600)
    _spawn(folder, "redis", [REDIS_SERVER, str(config)], os.environ)
    url = f"redis://:{password}@127.0.0.1:{port}/0"
    deadline = time.monotonic() + 20
    import redis

    while time.monotonic() < deadline:
        try:
            if redis.Redis.from_url(url, socket_timeout=1).ping():
                return url
        except redis.RedisError:
            time.sleep(0.1)
    raise TeamError(f"Redis did not start: {_last_lines(folder / 'logs' / 'redis.log')}")


def _upload_limit_mb(env: Mapping[str, str]) -> int:
    from services.settings import Settings

    configured = env.get("RESEARCH_DESK_UPLOAD_LIMIT_MB")
    return int(configured) if configured else Settings().upload_limit_mb


def nginx_config(folder: Path, ports: TeamPorts, upload_limit_mb: int) -> str:
    """deploy/nginx.conf.template filled in for this folder and these ports."""
    servers = "\n".join(f"    server 127.0.0.1:{port};" for port in ports.apps)
    values = {"NGINX_DIR": str(folder / "nginx"), "APP_SERVERS": servers,
              "PROXY_PORT": str(ports.proxy), "BODY_LIMIT_MB": str(upload_limit_mb + BODY_SLACK_MB)}
    text = TEMPLATE.read_text()
    for name, value in values.items():
        text = text.replace(f"@{name}@", value)
    return text


def _nginx_command(folder: Path) -> list[str]:
    nginx = folder / "nginx"
    return [NGINX, "-e", str(nginx / "logs" / "error.log"), "-p", str(nginx),
            "-c", str(nginx / "nginx.conf")]


def _start_nginx(folder: Path, ports: TeamPorts, env: Mapping[str, str]) -> None:
    (folder / "nginx" / "nginx.conf").write_text(
        nginx_config(folder, ports, _upload_limit_mb(env)))
    _run(_nginx_command(folder), "Starting nginx")


def _stop_nginx(folder: Path) -> bool:
    pid = _read_pid(folder / "nginx" / "nginx.pid")
    if pid is None or not _process_alive(pid, "nginx"):
        return False
    _run([*_nginx_command(folder), "-s", "stop"], "Stopping nginx")
    _wait_gone(pid, "nginx", 15)
    return True


def _wait_gone(pid: int, marker: str, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not _process_alive(pid, marker):
            return True
        time.sleep(0.1)
    return False


def _end(path: Path, marker: str) -> bool:
    """End the process group a pid file names (politely, then for sure)."""
    pid = _read_pid(path)
    path.unlink(missing_ok=True)
    if pid is None or not _process_alive(pid, marker):
        return False
    # Started in its own session, it leads its process group: ending the group ends the
    # children too (Celery's pool, the sandbox's query processes).
    try:
        leads_group = os.getpgid(pid) == pid
    except ProcessLookupError:
        return True
    for sig, patience in ((signal.SIGTERM, 20), (signal.SIGKILL, 10)):
        try:
            os.killpg(pid, sig) if leads_group else os.kill(pid, sig)
        except ProcessLookupError:
            return True
        if _wait_gone(pid, marker, patience):
            return True
    return True


def _wait_ready(folder: Path, urls: dict[str, str], deadline: float) -> None:
    """Every one of `urls` answers the readiness check before `deadline` (monotonic)."""
    waiting = dict(urls)
    while waiting:
        for name, url in list(waiting.items()):
            if _answers(url):
                del waiting[name]
            elif name.startswith("app") and not _alive_pid_file(
                    folder / "run" / f"{name}.pid", MARKERS["app"]):
                raise TeamError(f"The app server {name} stopped while starting:\n"
                                f"{_last_lines(folder / 'logs' / f'{name}.log')}")
        if waiting and time.monotonic() > deadline:
            raise TeamError(f"Not ready in time: {', '.join(waiting)} (see the "
                            f"logs in {folder / 'logs'} and {folder / 'nginx' / 'logs'}).")
        if waiting:
            time.sleep(0.3)


# ---- start and stop -------------------------------------------------------------------


def running_parts(folder: Path) -> list[str]:
    """What of a team set-up in `folder` is running now."""
    folder = Path(folder)
    parts = [path.stem for path, marker in _pid_files(folder) if _alive_pid_file(path, marker)]
    if (folder / "postgres" / "data" / "postmaster.pid").exists():
        parts.append("postgres")
    nginx_pid = _read_pid(folder / "nginx" / "nginx.pid")
    if nginx_pid is not None and _process_alive(nginx_pid, "nginx"):
        parts.append("nginx")
    return parts


def already_running(folder: Path) -> str | None:
    """The sentence for a second `make team`, or None when nothing runs from `folder`."""
    folder = Path(folder).resolve()
    parts = running_parts(folder)
    if not parts:
        return None
    try:
        where = f" at http://127.0.0.1:{json.loads((folder / 'team.json').read_text())['proxy']}"
    except (OSError, ValueError, KeyError):
        where = ""
    return (f"A team set-up is already running from {folder}{where} ({', '.join(parts)}). "
            "Stop it first with `make team-stop`.")


def start_team(folder: Path, ports: TeamPorts, extra_env: Mapping[str, str] | None = None,
               *, ready_timeout_s: float = 180) -> TeamHandle:
    """Start PostgreSQL, Redis, migrations, the app servers, the worker and nginx in
    `folder`, and wait until nginx answers the readiness check. Anything started is
    stopped again when a later step fails."""
    folder = Path(folder).resolve()
    if message := already_running(folder):
        raise TeamAlreadyRunning(message)
    _check_tools()
    _check_ports(ports)
    _check_reachable(folder)
    _prepare_folder(folder)
    (folder / "team.json").write_text(json.dumps(asdict(ports)) + "\n")
    try:
        env = {**os.environ,
               "RESEARCH_DESK_COOKIE_KEY": _secret_file(folder / "cookie-key"),
               "RESEARCH_DESK_TRUST_FORWARDED_FOR": "1",
               "RESEARCH_DESK_DATA_DIR": str(folder / "data"),
               "RESEARCH_DESK_DATABASE_URL": _start_postgres(folder, ports.postgres),
               "RESEARCH_DESK_REDIS_URL": _start_redis(folder, ports.redis),
               **(extra_env or {})}
        _run([sys.executable, "-m", "services.cli", "migrate"], "Migrating the metadata store",
             cwd=ROOT, env=env)
        for port in ports.apps:
            _spawn(folder, f"app-{port}", [sys.executable, "-m", "uvicorn", "asgi:app",
                                           "--host", "127.0.0.1", "--port", str(port)], env)
        _spawn(folder, "worker", [str(Path(sys.executable).with_name("celery")), "--app",
                                  "services.prompts.worker", "worker", "--loglevel", "INFO",
                                  "--concurrency", "2"], env)
        deadline = time.monotonic() + ready_timeout_s
        _wait_ready(folder, {f"app-{port}": f"http://127.0.0.1:{port}{READY_PATH}"
                             for port in ports.apps}, deadline)
        # nginx only once every server answers: a server refused while it was still
        # starting would be left out for a while (nginx's fail_timeout), moving browsers.
        _start_nginx(folder, ports, env)
        _wait_ready(folder, {"nginx": f"http://127.0.0.1:{ports.proxy}{READY_PATH}"}, deadline)
    except BaseException:
        with contextlib.suppress(TeamError):  # the first failure is the one to report
            stop_team(folder)
        raise
    return TeamHandle(folder=folder, ports=ports, env=env)


def stop_team(folder: Path) -> list[str]:
    """End everything `start_team` started in `folder` (nginx first, PostgreSQL last);
    returns what was running."""
    folder = Path(folder).resolve()
    stopped = ["nginx"] if _stop_nginx(folder) else []
    ordered = sorted(_pid_files(folder), key=lambda item: item[0].stem == "redis")
    stopped += [path.stem for path, marker in ordered if _end(path, marker)]
    if _stop_postgres(folder):
        stopped.append("postgres")
    return stopped


# ---- command line ---------------------------------------------------------------------


def _ports_from(args: argparse.Namespace) -> TeamPorts:
    apps = tuple(int(port) for port in args.app_ports.replace(",", " ").split())
    if len(apps) < 1:
        raise TeamError("Give at least one app server port (TEAM_APP_PORTS).")
    return TeamPorts(proxy=args.port, apps=apps, postgres=args.postgres_port,
                     redis=args.redis_port)


def main(argv: list[str] | None = None) -> int:
    defaults = TeamPorts()
    parser = argparse.ArgumentParser(prog="python -m deploy.team",
                                     description="A local team set-up on loopback.")
    parser.add_argument("action", choices=["start", "stop"])
    parser.add_argument("--folder", type=Path, default=DEFAULT_FOLDER)
    parser.add_argument("--port", type=int, default=defaults.proxy, help="nginx's port")
    parser.add_argument("--app-ports", default=",".join(map(str, defaults.apps)))
    parser.add_argument("--postgres-port", type=int, default=defaults.postgres)
    parser.add_argument("--redis-port", type=int, default=defaults.redis)
    args = parser.parse_args(argv)
    try:
        if args.action == "stop":
            stopped = stop_team(args.folder)
            print(f"Stopped: {', '.join(stopped)}." if stopped
                  else f"No team set-up is running from {args.folder}.")
            return 0
        if message := already_running(args.folder):
            print(message)
            return 0
        print(f"Starting the team set-up in {args.folder} (PostgreSQL, Redis, "
              f"{len(_ports_from(args).apps)} app servers, a worker, nginx)…", flush=True)
        began = time.monotonic()
        team = start_team(args.folder, _ports_from(args))
    except TeamAlreadyRunning as error:
        print(error)
        return 0
    except TeamError as error:
        print(error, file=sys.stderr)
        return 1
    if not team.worker_running():
        print(f"Note: the Celery worker stopped at once; see {team.log('worker')}.")
    print(f"Research Desk (team set-up) is ready at {team.url} (after "
          f"{time.monotonic() - began:.0f} s)\n"
          f"App servers: {', '.join(team.app_url(i) for i in range(len(team.ports.apps)))}; "
          f"logs in {team.folder / 'logs'}.\nStop it with `make team-stop`.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
