"""The operator's command line, for servers without a browser at hand.

    python -m services.cli create-admin USERNAME [--name NAME] [--email EMAIL]
    python -m services.cli create-token USERNAME --name NAME [--expires-in-days N]
    python -m services.cli revoke-tokens USERNAME
    python -m services.cli migrate
    python -m services.cli backup [--to FOLDER]
    python -m services.cli restore ARCHIVE
    python -m services.cli add-source NAME (--url URL | --host H --database D --user U)
                                          [--port P] [--schemas S,T] [--no-test]
    python -m services.cli eval [--model M ...] [--questions FILE] [--limit N] [--out FOLDER]
                                [--budget USD] [--rehearse]

Passwords (of accounts and of data sources) are read from standard input (typed twice at a
terminal, one line from a pipe), never from the command line, where they would stay in the
shell's history. Each command is audited like the same action in the app, with "cli" as the
one who did it. With the default embedded metadata store, stop the server first: one process
at a time may write to it.
"""

import argparse
import getpass
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from services.access import api_tokens, users
from services.access.permissions import Role
from services.access.users import NewUser, UserView
from services.errors import ResearchDeskError
from services.ops import backup as backups
from services.sources import catalog
from services.sources.catalog import SourceInput
from services.sources.check import check_connection
from services.store import db
from services.store.models import utcnow

OPERATOR = "cli"


def operator() -> UserView:
    """Who the audit log names for command-line actions: the server's operator."""
    return UserView(username=OPERATOR, name="Command line", email="", role=Role.ADMIN,
                    disabled=False, created_at=datetime.min)


def _read_password() -> str:
    if sys.stdin.isatty():
        first = getpass.getpass("Password: ")
        if getpass.getpass("Repeat the password: ") != first:
            raise ResearchDeskError("The two passwords are not the same; nothing was changed.")
        return first
    return sys.stdin.readline().rstrip("\r\n")


def create_admin(args: argparse.Namespace) -> str:
    new = NewUser.parse(username=args.username, name=args.name or args.username,
                        email=args.email or "", password=_read_password(), role=Role.ADMIN)
    if users.has_users():
        created = users.create_user(operator(), new)
    else:
        created = users.create_first_admin(new)
    return f"Admin account “{created.username}” created. They can sign in now."


def create_token(args: argparse.Namespace) -> str:
    new = api_tokens.create_token(operator(), args.name, expires_in_days=args.expires_in_days,
                                  for_user=args.username.strip().lower())
    expires = f" It expires on {new.token.expires_at:%Y-%m-%d}." if new.token.expires_at else ""
    return (f"{new.secret}\n\nThis is the token for “{new.token.username}”, shown only "
            f"once: copy it now.{expires}")


def revoke_tokens(args: argparse.Namespace) -> str:
    username = args.username.strip().lower()
    if users.get_user(username) is None:
        raise ResearchDeskError(f"There is no user called “{username}”.")
    count = api_tokens.revoke_all(operator(), username)
    return f"Revoked {count} token(s) of “{username}” at {utcnow():%Y-%m-%d %H:%M} UTC."


def migrate(_args: argparse.Namespace) -> str:
    return f"The metadata store is up to date (revision {db.migrate()})."


def backup(args: argparse.Namespace) -> str:
    made = backups.backup(Path(args.to))
    return (f"Backup written to {made.archive} ({made.bytes / 1e6:,.1f} MB: "
            f"{sum(made.rows.values()):,} rows, {made.files:,} dataset files).")


def restore(args: argparse.Namespace) -> str:
    done = backups.restore(Path(args.archive))
    return (f"Restored {sum(done.rows.values()):,} rows and {done.files:,} dataset files. "
            "People sign in again with their passwords.")


def add_source(args: argparse.Namespace) -> str:
    new = SourceInput.parse(name=args.name, url=args.url or "", host=args.host or "",
                            port=args.port or "", database=args.database or "",
                            username=args.user or "", password=_read_password(),
                            schemas=args.schemas)
    said = ""
    if not args.no_test:
        checked = check_connection(operator(), new)
        if not checked.ok:
            raise ResearchDeskError(f"{checked.message} Nothing was added.")
        said = "\n" + "\n".join(filter(None, (checked.message, checked.warning)))
    added = catalog.add_source(operator(), new)
    return f"Data source “{added.name}” added: {added.where}.{said}"


def evaluate(args: argparse.Namespace) -> str:
    # imported here: Ask and its charts are heavy, and the other commands never need them
    from services.claude import eval_run, evaluation

    given = {"questions": Path(args.questions) if args.questions else None,
             "models": list(dict.fromkeys(args.model or [])), "limit": args.limit,
             "out": Path(args.out) if args.out else None, "budget_usd": args.budget,
             "rehearse": args.rehearse}
    options = eval_run.EvalOptions.model_validate(  # what was not given keeps its default
        {key: value for key, value in given.items() if value is not None})
    done = eval_run.run(options, say=lambda line: print(line, flush=True))
    stopped = f"\n{done.report.stopped}" if done.report.stopped else ""
    return (f"\n{evaluation.plain_table(done.report)}{stopped}\n\nAnswered by "
            f"{done.report.against}. The report is in {done.written} (and latest.md beside "
            "it); admins see the latest on the Usage page.")


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError("give a whole number of questions, 1 or more")
    return int(text)


def _amount(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if value < 0:
        raise argparse.ArgumentTypeError("give an amount in US dollars, e.g. 5 or 2.50")
    return value


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(
        prog="python -m services.cli",
        description="Research Desk's operator commands. Stop the server first when it "
                    "uses the embedded metadata store.")
    commands = main.add_subparsers(dest="command", required=True, metavar="COMMAND")
    admin = commands.add_parser(
        "create-admin", help="create an admin account (password from standard input)",
        description="Create an admin account. The password is read from standard input "
                    f"and must be {users.PASSWORD_RULE}.")
    admin.add_argument("username", help=f"the sign-in name: {users.USERNAME_RULE}")
    admin.add_argument("--name", help="the person's name as shown in the app")
    admin.add_argument("--email", help="their email address (optional)")
    admin.set_defaults(run=create_admin)
    token = commands.add_parser(
        "create-token", help="create a personal API token and print it once",
        description="Create an API token for an account; it is printed once, then only "
                    "its name and first characters are kept in view.")
    token.add_argument("username", help="whose token it is")
    token.add_argument("--name", required=True, help="what the token is for, e.g. 'nightly'")
    token.add_argument("--expires-in-days", type=int, default=None,
                       help="days until it stops working (default: never)")
    token.set_defaults(run=create_token)
    revoke = commands.add_parser(
        "revoke-tokens", help="revoke every API token of an account",
        description="Stop every API token of an account working, at once.")
    revoke.add_argument("username", help="whose tokens to revoke")
    revoke.set_defaults(run=revoke_tokens)
    upgrade = commands.add_parser(
        "migrate", help="update the metadata store to this version",
        description="Update the metadata store to this version of Research Desk. Servers "
                    "do this when they start; several may do it at once on PostgreSQL.")
    upgrade.set_defaults(run=migrate)
    save = commands.add_parser(
        "backup", help="write one archive of the metadata and the dataset files",
        description="Write one archive (.tar.gz, named with the time) of the metadata and "
                    "the dataset files. On PostgreSQL servers may keep running; with the "
                    "embedded store, stop the server first.")
    save.add_argument("--to", default="backups", help="the folder for the archive "
                      "(default: backups)")
    save.set_defaults(run=backup)
    load = commands.add_parser(
        "restore", help="bring a backup archive into an empty installation",
        description="Bring an archive made by the backup command into an empty installation "
                    "(a new data folder, and a new database with RESEARCH_DESK_DATABASE_URL), "
                    "on either store.")
    load.add_argument("archive", help="the .tar.gz file made by the backup command")
    load.set_defaults(run=restore)
    source = commands.add_parser(
        "add-source", help="add a data source (a database; password from standard input)",
        description="Add a PostgreSQL database as a data source. Its password is read from "
                    "standard input (empty for none), stored encrypted and never shown again. "
                    "The connection is tested first: a source that cannot be reached is not "
                    "added (unless --no-test). Use a database user that may only read.")
    source.add_argument("name", help="the name people will see, e.g. 'warehouse'")
    source.add_argument("--url", help="a SQLAlchemy URL, e.g. postgresql://reader@host:5432/db "
                        "(instead of --host, --port, --database and --user)")
    source.add_argument("--host", help="the database server's host name")
    source.add_argument("--port", help="its port (default 5432)")
    source.add_argument("--database", help="the database's name")
    source.add_argument("--user", help="the database user (make one that may only read)")
    source.add_argument("--schemas", default="public",
                        help="the schemas that may be read, separated by commas "
                             "(default: public)")
    source.add_argument("--no-test", action="store_true",
                        help="add it without testing the connection first")
    source.set_defaults(run=add_source)
    check = commands.add_parser(
        "eval", help="measure how well Ask answers a question set, per model",
        description="Ask every question of a question set (gold SQL over named datasets, "
                    "in YAML) and compare Ask's result table with the gold one; print "
                    "accuracy, unanswered questions, tokens, cost and time per model and "
                    "write the report. The datasets are loaded into a throwaway folder, "
                    "never your store. With ANTHROPIC_API_KEY set this calls the real Claude "
                    "API and costs money; without it, a rehearsal against a stand-in.")
    check.add_argument("--model", action="append", metavar="MODEL",
                       help="a model to evaluate (repeat for several; default: the "
                            "configured model)")
    check.add_argument("--questions", metavar="FILE",
                       help="a YAML question set of your own (default: evals/questions.yaml)")
    check.add_argument("--limit", type=_positive, metavar="N",
                       help="ask only the first N questions")
    check.add_argument("--out", metavar="FOLDER",
                       help="where to write the report (default: the data folder's eval/)")
    check.add_argument("--budget", type=_amount, metavar="USD",
                       help="stop when about this many US dollars are spent (default: 5)")
    check.add_argument("--rehearse", action="store_true",
                       help="use the stand-in for Claude even when a key is set (free)")
    check.set_defaults(run=evaluate)
    return main


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        print(args.run(args))
    except ResearchDeskError as error:
        print(str(error), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
