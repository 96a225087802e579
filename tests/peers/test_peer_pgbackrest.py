"""pgBackRest 2.45 with its repository on a real Garage, through the nginx TLS front (stanza-create, backup, restore).

A throwaway PostgreSQL 15 cluster on 127.0.0.1 and a free high port, driven as
the ``postgres`` user when run as root. Assertions parse ``info --output=json``
(pgBackRest's rc is 0 even when the repository is unreachable). PostgreSQL is
stopped before the S3 server (feasibility-services.md §4, pitfall 5).
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import typing as t

import pytest
from peer_support import S3Peer, require

PG_BIN = "/usr/lib/postgresql/15/bin"
STANZA = "garage"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Runner:
    """Run commands as ``postgres`` when we are root, else as ourselves."""

    def __init__(self) -> None:
        self.as_postgres = os.geteuid() == 0
        if self.as_postgres:
            try:
                pw = pwd.getpwnam("postgres")
            except KeyError:
                pytest.fail("running as root but there is no postgres user (install postgresql-15)")
            self.uid, self.gid = pw.pw_uid, pw.pw_gid
        else:
            self.uid, self.gid = os.getuid(), os.getgid()

    def own(self, path: str) -> None:
        if self.as_postgres:
            for root, dirs, files in os.walk(path):
                for n in [root, *(os.path.join(root, d) for d in dirs), *(os.path.join(root, f) for f in files)]:
                    os.chown(n, self.uid, self.gid)

    def __call__(self, cmd: list[str], *, timeout: float = 60, check: bool = True) -> subprocess.CompletedProcess[str]:
        kw: dict[str, t.Any] = {}
        if self.as_postgres:
            kw = {"user": self.uid, "group": self.gid, "extra_groups": []}
        env = {"PATH": f"{PG_BIN}:/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": "/tmp"}
        p = subprocess.run(
            cmd, capture_output=True, text=True, errors="replace", timeout=timeout, env=env, check=False, **kw
        )
        if check and p.returncode != 0:
            raise AssertionError(f"{cmd[:3]} exited {p.returncode}\n{p.stdout[-3000:]}\n{p.stderr[-3000:]}")
        return p


def test_pgbackrest_backup_and_restore_over_tls(s3peer_tls: S3Peer) -> None:
    pgbackrest = require("pgbackrest")
    if not os.path.exists(f"{PG_BIN}/initdb"):
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL 15 is required in CI")
        pytest.skip("PostgreSQL 15 not installed (and CI is unset)")
    peer = s3peer_tls
    assert peer.ca_file and peer.host == "localhost"
    peer.boto3.create_bucket(Bucket="pgbackrest")
    run = Runner()
    work = tempfile.mkdtemp(prefix="cellar-pgbr-")  # outside pytest's 0700 tmp tree: postgres must reach it
    os.chmod(work, 0o755)
    for d in ("sock", "log", "lock", "spool"):
        os.makedirs(os.path.join(work, d))
    ca = os.path.join(work, "ca.pem")
    shutil.copyfile(peer.ca_file, ca)
    data, restored = os.path.join(work, "data"), os.path.join(work, "restored")
    port, port2 = free_port(), free_port()
    conf = os.path.join(work, "pgbackrest.conf")
    with open(conf, "w") as f:
        f.write(
            "[global]\n"
            "repo1-type=s3\nrepo1-path=/repo\n"
            f"repo1-s3-endpoint=localhost\nrepo1-storage-port={peer.port}\n"
            f"repo1-s3-bucket=pgbackrest\nrepo1-s3-region={peer.region}\n"
            f"repo1-s3-key={peer.key_id}\nrepo1-s3-key-secret={peer.secret}\n"
            f"repo1-s3-uri-style=path\nrepo1-storage-ca-file={ca}\nrepo1-retention-full=2\n"
            f"log-path={work}/log\nlock-path={work}/lock\nspool-path={work}/spool\n"
            "log-level-console=warn\nlog-level-file=detail\nstart-fast=y\nprocess-max=2\n"
            "compress-type=lz4\nio-timeout=15\narchive-timeout=30\n\n"
            f"[{STANZA}]\npg1-path={data}\npg1-port={port}\npg1-socket-path={work}/sock\npg1-user=postgres\n"
        )
    os.chmod(conf, 0o640)
    run.own(work)
    br = [pgbackrest, f"--config={conf}", f"--stanza={STANZA}"]
    psql = [f"{PG_BIN}/psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-Atqc"]
    started: list[str] = []
    try:
        run([f"{PG_BIN}/initdb", "-D", data, "-A", "trust", "-U", "postgres", "--no-sync"])
        with open(os.path.join(data, "postgresql.conf"), "a") as f:
            f.write(
                f"listen_addresses = '127.0.0.1'\nport = {port}\nunix_socket_directories = '{work}/sock'\n"
                "wal_level = replica\narchive_mode = on\nmax_wal_senders = 2\nshared_buffers = 32MB\n"
                f"archive_command = '{pgbackrest} --config={conf} --stanza={STANZA} archive-push %p'\n"
            )
        run([f"{PG_BIN}/pg_ctl", "-D", data, "-l", f"{work}/pg.log", "-w", "start"])
        started.append(data)
        run(
            [*psql[:-1], "-p", str(port), "-Atqc",
             "CREATE TABLE marker AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 50000) g"]
        )  # fmt: skip
        run([*br, "stanza-create"])
        run([*br, "check"])
        run([*br, "--type=full", "backup"])
        info = json.loads(run([*br, "--output=json", "info"]).stdout)
        assert info[0]["status"]["code"] == 0, info[0]["status"]
        assert all(r["status"]["code"] == 0 for r in info[0]["repo"]), info[0]["repo"]
        assert [b["type"] for b in info[0]["backup"]] == ["full"]
        objects = [
            c["Key"]
            for page in peer.boto3.get_paginator("list_objects_v2").paginate(Bucket="pgbackrest", Prefix="repo/")
            for c in page.get("Contents", [])
        ]
        assert any(k.startswith(f"repo/backup/{STANZA}/") for k in objects)
        assert any(k.startswith(f"repo/archive/{STANZA}/") for k in objects)
        run([f"{PG_BIN}/pg_ctl", "-D", data, "-m", "fast", "-w", "stop"])
        started.remove(data)
        os.makedirs(restored, mode=0o700)
        run.own(restored)
        run(
            [
                *br,
                f"--pg1-path={restored}",
                "--type=immediate",
                "--target-action=promote",
                "--archive-mode=off",
                "restore",
            ]
        )
        run([f"{PG_BIN}/pg_ctl", "-D", restored, "-l", f"{work}/pg2.log", "-o", f"-p {port2}", "-w", "start"])
        started.append(restored)
        count = run([*psql[:-1], "-p", str(port2), "-Atqc", "SELECT count(*), max(v) FROM marker"]).stdout.strip()
        assert count.startswith("50000|"), count
        # a wrong secret is reported in the JSON status, not in the exit code
        bad = conf + ".bad"
        with open(conf) as f, open(bad, "w") as g:
            g.write(f.read().replace(f"repo1-s3-key-secret={peer.secret}", "repo1-s3-key-secret=" + "0" * 64))
        run.own(bad)
        p = run([pgbackrest, f"--config={bad}", f"--stanza={STANZA}", "--output=json", "info"], check=False)
        assert p.returncode == 0
        assert json.loads(p.stdout)[0]["status"]["code"] != 0
    finally:
        for d in started:  # PostgreSQL before the S3 server
            run([f"{PG_BIN}/pg_ctl", "-D", d, "-m", "immediate", "-w", "stop"], check=False)
        shutil.rmtree(work, ignore_errors=True)
