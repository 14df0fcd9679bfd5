"""Fixtures of the class-store tests: a throw-away PostgreSQL server for the session (from
/work/shared/recipes/conftest_postgres.py: Debian's postgresql, loopback TCP, fsync off, trust
auth; as root the server runs as the `postgres` user), and per test a fresh database on each
backend: `db_url` (a SQLite file in tmp_path, or a new PostgreSQL database) and `store` on it."""
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid

import pytest
import sqlalchemy as sa

from nnviz.classroom.store import ClassStore


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def postgres_url():
    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
    if not bins:
        pytest.fail("PostgreSQL is not installed: apt-get install -y postgresql (.ci/run does this)")
    bin_dir, port = bins[-1], _free_port()
    root = tempfile.mkdtemp(prefix="pg-")
    as_pg = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    if as_pg:
        shutil.chown(root, "postgres")
    data = os.path.join(root, "data")
    run = lambda *cmd: subprocess.run(as_pg + list(cmd), check=True, capture_output=True, text=True)  # noqa: E731
    run(f"{bin_dir}/initdb", "-D", data, "-U", "test", "--auth=trust", "-E", "UTF8")
    # -k: the socket directory (the default one needs root); -h: TCP on loopback only
    run(f"{bin_dir}/pg_ctl", "-D", data, "-w", "-l", os.path.join(root, "log"),
        "-o", f"-p {port} -h 127.0.0.1 -k {root} -c fsync=off -c max_connections=200", "start")
    try:
        run(f"{bin_dir}/createdb", "-h", "127.0.0.1", "-p", str(port), "-U", "test", "app")
        yield f"postgresql+psycopg://test@127.0.0.1:{port}/app"
    finally:
        subprocess.run(as_pg + [f"{bin_dir}/pg_ctl", "-D", data, "-m", "immediate", "stop"], capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_admin(postgres_url):
    """An AUTOCOMMIT engine on the `app` database, for CREATE/DROP DATABASE."""
    engine = sa.create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    yield engine
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request, tmp_path):
    """The URL of an empty database of its own, on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/class.db"
        return
    admin, name = request.getfixturevalue("postgres_admin"), f"t_{uuid.uuid4().hex}"
    with admin.connect() as c:
        c.exec_driver_sql(f"CREATE DATABASE {name}")
    yield admin.url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as c:
        c.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def store(db_url):
    """A fresh ClassStore (migrated to head) on its own database."""
    s = ClassStore(db_url)
    yield s
    s.dispose()
