"""`python -m nnviz class ...`: prepare and script a class challenge (the same store as /class).

    python -m nnviz class create --eps 0.1 --json            # the join code and the teacher key
    python -m nnviz class submit --code C --name N --model F.npz --json   # waits for the rating
    python -m nnviz class board --code C --json              # one JSON object per entry
    python -m nnviz class worker                             # rate submissions until Ctrl-C

Every command uses NNVIZ_DATABASE_URL (default: a SQLite file in the user's data directory).
Bad input (an unknown code, a taken name, a file that is not a digit model): exit status 2 and
one line on stderr.
"""
from __future__ import annotations

import argparse
import json
import sys
import time

from nnviz.cli.args import number

EPILOG = "The database: NNVIZ_DATABASE_URL (sqlite:///path or postgresql+psycopg://user@host/db)."


def add_arguments(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="action", metavar="ACTION", title="actions", required=True,
                           parser_class=type(p))
    create = sub.add_parser("create", help="start a class: prints the join code and the teacher key")
    create.add_argument("--eps", type=number(float, 0.05, 0.3), default=0.1,
                        help="the attack budget of the class (0.05-0.3); default 0.1")
    create.add_argument("--limit", type=number(int, 1, 50), default=5,
                        help="submissions per student per round; default 5")
    create.add_argument("--open", action="store_true", help="open round 1 (submissions) at once")
    create.add_argument("--json", action="store_true")

    submit = sub.add_parser("submit", help="join a class (or rejoin with --token) and submit a model; waits for its rating")
    submit.add_argument("--code", required=True, help="the class's join code")
    who = submit.add_mutually_exclusive_group(required=True)
    who.add_argument("--name", help="display name to join with (1-24 characters, unique in the class)")
    who.add_argument("--token", help="a student token from an earlier join")
    submit.add_argument("--model", required=True, metavar="PATH", help="a model saved by nnviz (.npz)")
    submit.add_argument("--timeout", type=number(float, 1, 3600), default=600,
                        help="seconds to wait for the rating; default 600")
    submit.add_argument("--json", action="store_true")

    board = sub.add_parser("board", help="the leaderboard: one line (or JSON object) per entry")
    board.add_argument("--code", required=True)
    board.add_argument("--json", action="store_true")

    sub.add_parser("worker", help="rate queued submissions of every class until interrupted")


def run(args: argparse.Namespace) -> int:
    from nnviz.classroom.store import ClassError, ClassStore

    prog = f"{getattr(args, 'prog', 'python -m nnviz class')}"
    try:
        store = ClassStore()
    except Exception as e:  # noqa: BLE001 - an unreachable database is one line, not a traceback
        print(f"{prog}: the class database cannot be opened: {' '.join(str(e).split())[:300]}", file=sys.stderr)
        return 1
    try:
        return {"create": _create, "submit": _submit, "board": _board, "worker": _worker}[args.action](store, args)
    except ClassError as e:
        print(f"{prog}: {e}", file=sys.stderr)
        return 2
    finally:
        store.dispose()


def _create(store, args) -> int:
    new = store.create_class(eps=args.eps, submit_limit=args.limit)
    if args.open:
        store.update_class(new.code, new.teacher_key, submit_open=True)
    if args.json:
        print(json.dumps({"code": new.code, "teacher_key": new.teacher_key, "eps": args.eps,
                          "submit_limit": args.limit}))
    else:
        print(f"class {new.code} (eps {args.eps}, {args.limit} submissions a round)")
        print(f"teacher key (keep it secret; it is stored only hashed): {new.teacher_key}")
    return 0


def _submit(store, args) -> int:
    from pathlib import Path

    from nnviz.classroom.store import ClassError
    from nnviz.classroom.worker import rate_one, worker_name

    path = Path(args.model)
    if not path.is_file():
        raise ClassError(f"no model file {args.model}")
    if path.stat().st_size > 2_000_000:
        raise ClassError(f"{args.model} is {path.stat().st_size / 1e6:.1f} MB; a class model is at most 2 MB")
    token = args.token
    joined_name = None
    if token is None:
        joined = store.join(args.code, args.name, client="cli")
        token, joined_name = joined.token, joined.name
    submission_id = store.submit_model(token, path.read_bytes())
    # Rate here if no server's worker does it first: the claim makes sure only one of us does.
    deadline, me = time.monotonic() + args.timeout, worker_name()
    row = store.submission(submission_id)
    while row.status in ("queued", "rating"):
        if time.monotonic() > deadline:
            print(f"submission {submission_id}: not rated after {args.timeout:g} s", file=sys.stderr)
            return 1
        if not rate_one(store, me):
            time.sleep(0.2)
        row = store.submission(submission_id)
    if row.status == "failed":
        print(f"submission {submission_id}: {row.error}", file=sys.stderr)
        return 1
    out = {"submission_id": submission_id, "clean_acc": row.clean_acc, "robust_acc": row.robust_acc,
           "sizes": row.sizes, "n_params": row.n_params}
    if joined_name is not None:
        out.update(name=joined_name, token=token)
    if args.json:
        print(json.dumps(out))
    else:
        if joined_name is not None:
            print(f"joined as {joined_name}; rejoin token: {token}")
        print(f"submission {submission_id}: clean {row.clean_acc:.1%}, robust {row.robust_acc:.1%}")
    return 0


def _board(store, args) -> int:
    info = store.class_info(args.code)
    entries = store.leaderboard(info.code)
    for e in entries:
        row = {"rank": e.rank, "name": e.name, "clean_acc": e.clean_acc, "robust_acc": e.robust_acc,
               "submissions": e.submissions, "reference": e.reference}
        if args.json:
            print(json.dumps(row))
        else:
            print(f"{e.rank:>3}  {e.name:<24}  clean {e.clean_acc:6.1%}  robust {e.robust_acc:6.1%}  "
                  f"{e.submissions} submitted" + (f"  (reference: {e.reference})" if e.reference else ""))
    if not entries and not args.json:
        print(f"class {info.code}: no rated submissions yet")
    return 0


def _worker(store, args) -> int:
    from nnviz.classroom.worker import rate_one, worker_name
    from nnviz.engine.threads import cap_blas_threads

    cap_blas_threads(1)  # one core per worker; start more workers for more cores
    me, rated = worker_name(), 0
    from sqlalchemy.engine import make_url

    where = make_url(str(store.url)).render_as_string(hide_password=True)
    print(f"rating worker {me} on {where}; Ctrl-C stops it", file=sys.stderr)
    while True:
        if rate_one(store, me):
            rated += 1
            print(f"rated {rated}", file=sys.stderr)
        else:
            time.sleep(0.5)
