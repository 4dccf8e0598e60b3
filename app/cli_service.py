"""The service's commands: `python -m app seed | clients … | officials … | db upgrade` (app/__main__.py dispatches here)."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from app.settings import get_settings

if TYPE_CHECKING:  # the database modules load on the commands that need them
    from sqlalchemy.orm import Session, sessionmaker


def _session_factory() -> sessionmaker[Session]:
    from app.db.session import make_engine, make_session_factory

    return make_session_factory(make_engine(get_settings().database_url))


def seed(args: argparse.Namespace) -> int:
    from datetime import datetime

    from app.companies.seeds import load_seeds
    from app.deps import CHINA
    from app.engine import load_ruleset

    path = args.file or get_settings().seeds_file
    ruleset = load_ruleset(get_settings().rules_dir)  # the seeds' status events are decided under it
    with _session_factory()() as session:
        report = load_seeds(session, path, ruleset=ruleset, as_of=datetime.now(CHINA).date())
        session.commit()
    counts = report.counts
    print(f"{path}: {counts['created']} created, {counts['updated']} updated, {counts['unchanged']} unchanged")
    for problem in report.problems:
        print(f"  skipped {problem}", file=sys.stderr)
    return 1 if report.problems else 0


def events(args: argparse.Namespace) -> int:
    from datetime import datetime

    from app.deps import CHINA
    from app.engine import load_ruleset
    from app.events.service import DATE_CHANGE, refresh_statuses

    as_of = args.as_of or datetime.now(CHINA).date()
    done = refresh_statuses(_session_factory(), load_ruleset(get_settings().rules_dir), as_of=as_of, force=True,
                            cause=DATE_CHANGE)
    note = " (the first decision ever: statuses stored as the baseline, no events)" if done.baseline else ""
    print(f"{len(done.policies)} measures decided again as of {as_of.isoformat()}: {done.events} status events{note}")
    return 0


def clients(args: argparse.Namespace) -> int:
    from app.clients import service

    with _session_factory()() as session:
        if args.action == "create":
            try:
                client, key = service.create_client(session, name=args.name, scopes=args.scopes)
            except ValueError as exc:
                print(exc, file=sys.stderr)
                return 2
            session.commit()
            print(f"client {client.id} ({client.name}), scopes: {' '.join(client.scopes) or '-'}")
            print(f"key: {key}")
            print("Store the key now: only its hash is kept, it cannot be shown again.", file=sys.stderr)
        elif args.action == "revoke":
            from app.errors import ClientNotFoundError

            try:
                client = service.revoke_client(session, args.id)
            except ClientNotFoundError as exc:
                print(exc.detail, file=sys.stderr)
                return 1
            session.commit()
            print(f"client {client.id} ({client.name}) revoked at {client.revoked_at:%Y-%m-%d %H:%M:%S} UTC")
        else:
            for client in service.list_clients(session):
                state = f"revoked {client.revoked_at:%Y-%m-%d}" if client.revoked_at else "active"
                print(f"{client.id}  {client.key_prefix}…  {state:<18} {' '.join(client.scopes):<45} {client.name}")
    return 0


def officials(args: argparse.Namespace) -> int:
    import getpass

    from app.console import accounts
    from app.errors import AppError

    with _session_factory()() as session:
        try:
            if args.action == "create":
                if args.password_stdin:
                    password = sys.stdin.readline().rstrip("\r\n")
                else:
                    password = getpass.getpass("Password: ")
                    if getpass.getpass("Password again: ") != password:
                        print("The passwords differ; nothing created.", file=sys.stderr)
                        return 2
                official = accounts.create_official(session, username=args.username, password=password)
                session.commit()
                print(f"official {official.username} created")
            else:
                official = accounts.disable_official(session, username=args.username)
                session.commit()
                print(f"official {official.username} disabled; their sessions have ended")
        except AppError as exc:
            print(exc.detail, file=sys.stderr)
            return 1
    return 0


def db(args: argparse.Namespace) -> int:
    from alembic import command
    from alembic.config import Config

    config = Config(str(Path(args.config)))
    command.upgrade(config, args.revision)
    return 0


def parser() -> argparse.ArgumentParser:
    from app.clients.service import SCOPES

    top = argparse.ArgumentParser(prog="python -m app")
    commands = top.add_subparsers(dest="command", required=True)

    p = commands.add_parser("seed", help="load the demo companies (idempotent, keyed by credit code)")
    p.add_argument("--file", type=Path, help="seed file (default: settings seeds_file, seeds/companies.yaml)")
    p.set_defaults(run=seed)

    p = commands.add_parser("events", help="status events")
    actions = p.add_subparsers(dest="action", required=True)
    refresh = actions.add_parser("refresh", help="decide every measure again for the day (run daily): a firm "
                                                 "reaching an age a measure asks for, a measure coming into or "
                                                 "out of force")
    refresh.add_argument("--as-of", type=date.fromisoformat, default=None, help="the day (today in China)")
    p.set_defaults(run=events)

    p = commands.add_parser("clients", help="API clients and their keys")
    actions = p.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", help="create a client and print its key (shown once)")
    create.add_argument("name")
    create.add_argument("--scopes", nargs="*", default=[], choices=SCOPES, metavar="SCOPE",
                        help=f"any of: {', '.join(SCOPES)}")
    revoke = actions.add_parser("revoke", help="revoke a client's key")
    revoke.add_argument("id")
    actions.add_parser("list", help="list clients")
    p.set_defaults(run=clients)

    p = commands.add_parser("officials", help="console accounts of officials")
    actions = p.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", help="create an account; the password is asked for twice, unechoed")
    create.add_argument("username")
    create.add_argument("--password-stdin", action="store_true",
                        help="read the password from the first line of standard input (for scripts)")
    disable = actions.add_parser("disable", help="disable an account and end its sessions")
    disable.add_argument("username")
    p.set_defaults(run=officials)

    p = commands.add_parser("db", help="database schema")
    dbs = p.add_subparsers(dest="action", required=True)
    up = dbs.add_parser("upgrade", help="apply migrations (alembic upgrade)")
    up.add_argument("revision", nargs="?", default="head")
    up.add_argument("--config", default="alembic.ini")
    p.set_defaults(run=db)
    return top


COMMANDS = ("seed", "clients", "officials", "db")


def main(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
