# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""pgBackRest repositories on real Garage, proven by a point-in-time restore whose rows match.

Everything is real: a Garage 2.4.1 node, nginx from Debian as its TLS front (made by the role
``garage_tls_front`` with a CA the play creates), OpenBao, PostgreSQL 15 and pgBackRest 2.45
from Debian.

- ``playbooks/pgbackrest.yml`` (the front, the bucket and key through garage_customer_bucket
  with the credentials in OpenBao, the role ``pgbackrest``): check mode writes nothing, the run
  converges (archive settings, PostgreSQL restarted, stanza created, check, a full backup), and
  a second check run and a second real run report no change -- PostgreSQL is not restarted again.
- Rows inserted, an incremental backup, more rows, a point in time, more rows, WAL archived;
  the restore into a fresh data directory holds exactly the rows up to that point;
  pgbackrest_info reports both backups.
- A wrong CA, a wrong secret, an unreachable endpoint and a plain-HTTP URL each fail at once
  with a failure_reason naming the cause, with nothing written.
- No secret (S3 secret, OpenBao token, admin token) in any output, -vvv included, nor in a file
  others can read.

Teardown order: PostgreSQL (both clusters), then nginx, then Garage.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import signal
import ssl
import stat
import subprocess
import sys
import tempfile
import time
import typing as t
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from scripts.local_cluster import free_port
from tests.fixtures.garage import GarageCluster, start_cluster
from tests.fixtures.openbao import OpenBaoServer
from tests.fixtures.postgres import PgCluster, as_postgres, chown_tree, pg_workdir, require_pg, stop_all
from tests.integration._secret_checks import assert_no_secrets
from tests.integration.ansible_run import REPO_ROOT, PlaybookResult, _bin, run_playbook

STANZA = "demo"
BUCKET = "pgbr-repo"
KEY_NAME = "pgbr-demo"

NGINX_MAIN = """\
worker_processes 1;
{user}
error_log {dir}/error.log warn;
pid {dir}/nginx.pid;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {dir}/tmp/body;
    proxy_temp_path {dir}/tmp/proxy;
    fastcgi_temp_path {dir}/tmp/fastcgi;
    uwsgi_temp_path {dir}/tmp/uwsgi;
    scgi_temp_path {dir}/tmp/scgi;
    include {dir}/conf.d/*.conf;
}}
"""


class Nginx:
    """nginx from Debian with a main configuration that includes what the role writes."""

    def __init__(self, workdir: str) -> None:
        self.dir = workdir
        for sub in ("tmp", "conf.d", "tls"):
            os.makedirs(os.path.join(workdir, sub), exist_ok=True)
        self.main = os.path.join(workdir, "nginx.conf")
        Path(self.main).write_text(NGINX_MAIN.format(dir=workdir, user="user root;" if os.geteuid() == 0 else ""))
        self.base = [shutil.which("nginx") or "/usr/sbin/nginx", "-p", workdir, "-c", self.main]
        log = open(os.path.join(workdir, "nginx.out"), "wb")
        try:
            self.proc = subprocess.Popen(["setpriv", "--pdeathsig", "KILL", "--", *self.base, "-g", "daemon off;"],
                                         stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=True)  # fmt: skip
        finally:
            log.close()
        deadline = time.monotonic() + 15
        while not os.path.exists(os.path.join(workdir, "nginx.pid")):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"nginx did not start: {Path(workdir, 'error.log').read_text()[-2000:]}")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGQUIT)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)


class Env:
    """What the tests share: the Garage node, the front, the work directory, PostgreSQL."""

    def __init__(self, garage: GarageCluster, work: str) -> None:
        self.garage = garage
        self.work = work
        self.front_port = free_port()
        self.web_port = free_port()
        self.nginx = Nginx(os.path.join(work, "nginx"))
        self.ca_dir = os.path.join(work, "ca")
        self.pg: PgCluster | None = None
        self.outputs: list[str] = []
        self.secrets: list[str] = [garage.admin_token]

    @property
    def s3_url(self) -> str:
        return f"https://localhost:{self.front_port}"

    @property
    def ca_file(self) -> str:
        return os.path.join(self.ca_dir, "ca.pem")

    def front_vars(self) -> dict[str, t.Any]:
        node = self.garage.nodes[0]
        ngx = self.nginx
        return {
            "garage_tls_front_server_names": ["localhost"],
            "garage_tls_front_s3_listen": f"127.0.0.1:{self.front_port}",
            "garage_tls_front_s3_upstream": f"127.0.0.1:{node.ports['s3']}",
            "garage_tls_front_web_listen": f"127.0.0.1:{self.web_port}",
            "garage_tls_front_web_upstream": f"127.0.0.1:{node.ports['web']}",
            "garage_tls_front_ca_dir": self.ca_dir,
            "garage_tls_front_cert_dir": os.path.join(ngx.dir, "tls"),
            "garage_tls_front_nginx_conf": os.path.join(ngx.dir, "conf.d", "garage-tls-front.conf"),
            "garage_tls_front_validate_command": [*ngx.base, "-t", "-q"],
            "garage_tls_front_manage_service": False,
            "garage_tls_front_reload_command": [*ngx.base, "-s", "reload"],
        }

    def run(self, plays: t.Any, *, check: bool = False, verbosity: int = 0, extra: t.Any = None) -> PlaybookResult:
        began = time.monotonic()
        result = run_playbook(plays, garage=None, inventory=self.inventory(), extra_vars=extra, check=check,
                              diff=True, verbosity=verbosity)  # fmt: skip
        print(f"\nansible-playbook: {len(result.results)} task results in {time.monotonic() - began:.1f}s")
        self.outputs.append(result.stdout + result.stderr)
        return result

    def inventory(self) -> dict[str, t.Any]:
        host = {"localhost": {}}
        return {"all": {
            "children": {"garage_tls_front": {"hosts": host}, "databases": {"hosts": host}},
            "vars": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable,
                     "ansible_become": False, **self.front_vars()},
        }}  # fmt: skip


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> t.Iterator[Env]:
    """Garage (one node), then nginx; torn down in reverse. PostgreSQL comes with ``pg``."""
    require_pg()
    garage = start_cluster(tmp_path_factory.mktemp("garage-pgbr"), nodes=1)
    work = pg_workdir("cellar-pgbr-")
    environment = None
    try:
        environment = Env(garage, work)
        yield environment
    finally:
        stop_all()  # PostgreSQL first: its archiver would otherwise wait on a gone repository
        if environment is not None:
            environment.nginx.stop()
        garage.stop()
        shutil.rmtree(work, ignore_errors=True)


@pytest.fixture(scope="module")
def pg(env: Env) -> t.Iterator[PgCluster]:
    """A PostgreSQL 15 cluster whose postgresql.conf includes ``<work>/conf.d`` (the role's drop-in)."""
    conf_d = os.path.join(env.work, "conf.d")
    os.makedirs(conf_d, exist_ok=True)
    for sub in ("log", "lock", "spool", "etc", "systemd"):
        os.makedirs(os.path.join(env.work, sub), exist_ok=True)
    chown_tree(env.work)
    cluster = PgCluster(env.work, "data", conf=f"include_dir = '{conf_d}'")
    cluster.initdb()
    cluster.start()
    env.pg = cluster
    try:
        yield cluster
    finally:
        stop_all()


def pgbackrest_vars(env: Env, pg: PgCluster, openbao: OpenBaoServer, mount: str) -> dict[str, t.Any]:
    work = env.work
    node = env.garage.nodes[0]
    return {
        "garage_admin_url": env.garage.admin_url,
        "garage_admin_token": env.garage.admin_token,
        "garage_s3_url": node.s3_url,
        "cellar_garage_openbao_url": openbao.url,
        "cellar_garage_openbao_token": openbao.token,
        "pgbackrest_garage_source": "customer_bucket",
        "pgbackrest_garage_key_name": KEY_NAME,
        "pgbackrest_openbao_mount": mount,
        "pgbackrest_stanza": STANZA,
        "pgbackrest_config_file": f"{work}/etc/pgbackrest.conf",
        "pgbackrest_s3_url": env.s3_url,
        "pgbackrest_s3_bucket": BUCKET,
        "pgbackrest_ca_src": env.ca_file,
        "pgbackrest_ca_file": f"{work}/etc/garage-ca.pem",
        "pgbackrest_pg_path": pg.data,
        "pgbackrest_pg_port": pg.port,
        "pgbackrest_pg_socket_path": pg.socket_dir,
        "pgbackrest_archive_conf_file": f"{work}/conf.d/90-pgbackrest.conf",
        "pgbackrest_pg_restart_method": "command",
        "pgbackrest_pg_restart_command": pg.restart_argv(),
        "pgbackrest_global_options": {
            "log-path": f"{work}/log", "lock-path": f"{work}/lock", "spool-path": f"{work}/spool",
            "start-fast": True, "archive-timeout": 30, "compress-type": "lz4", "log-level-file": "detail",
        },
        "pgbackrest_backup_max_age": "7d",
        "pgbackrest_timers": [{"type": "full", "on_calendar": "Sun 01:00"},
                              {"type": "incr", "on_calendar": "Mon..Sat 01:00"}],
        "pgbackrest_systemd_dir": f"{work}/systemd",
        "pgbackrest_manage_timers": False,
    }


PLAYBOOK = [{"ansible.builtin.import_playbook": str(REPO_ROOT / "playbooks" / "pgbackrest.yml")}]


def tasks_play(env: Env, tasks: list[dict[str, t.Any]]) -> list[dict[str, t.Any]]:
    return [{
        "hosts": "localhost", "gather_facts": False,
        "module_defaults": {"group/cellar.garage.pgbackrest": {
            "config_file": f"{env.work}/etc/pgbackrest.conf", "probe_timeout": 3}},
        "tasks": tasks,
    }]  # fmt: skip


def table_digest(pg: PgCluster) -> tuple[int, str]:
    rows = pg.sql("SELECT id, v FROM items ORDER BY id")
    lines = rows.splitlines()
    return len(lines), hashlib.sha256(rows.encode()).hexdigest()


def insert(pg: PgCluster, first: int, last: int) -> None:
    pg.sql(f"INSERT INTO items SELECT g, md5(g::text) FROM generate_series({first}, {last}) g")


def archive_now(pg: PgCluster) -> str:
    """Switch to a new WAL segment and wait until the archiver has pushed the one it closed."""
    segment = pg.sql("SELECT pg_walfile_name(pg_switch_wal())")
    pg.wait_until(f"SELECT last_archived_wal >= '{segment}' FROM pg_stat_archiver", "t", timeout=60)
    return segment


def world_readable_files_with(paths: t.Iterable[str], secret: str) -> list[str]:
    found = []
    for base in paths:
        for root, _dirs, files in os.walk(base):
            for name in files:
                path = os.path.join(root, name)
                with contextlib.suppress(OSError):
                    if os.stat(path).st_mode & stat.S_IROTH and secret.encode() in Path(path).read_bytes():
                        found.append(path)
    return found


def test_playbook_backup_and_point_in_time_restore(
    env: Env, pg: PgCluster, openbao: OpenBaoServer, kv_mount: str
) -> None:
    extra = pgbackrest_vars(env, pg, openbao, kv_mount)
    env.secrets.append(openbao.token)
    config = Path(extra["pgbackrest_config_file"])
    pg.sql("CREATE TABLE items (id int PRIMARY KEY, v text)")
    insert(pg, 1, 1000)
    started = pg.started_at()
    # The front alone first (as a Garage node's play would): nginx reloads and listens.
    front = env.run([{"hosts": "garage_tls_front", "gather_facts": False,
                      "roles": [{"role": "cellar.garage.garage_tls_front"}]}])  # fmt: skip
    front.assert_ok()
    assert "Sign the node's certificate" in front.changed_tasks()
    assert oct(os.stat(os.path.join(env.ca_dir, "ca.key")).st_mode & 0o777) == "0o600"
    assert oct(os.stat(os.path.join(env.nginx.dir, "tls", "front.key")).st_mode & 0o777) == "0o600"
    context = ssl.create_default_context(cafile=env.ca_file)
    with pytest.raises(urllib.error.HTTPError) as web:  # the web front answers with Garage's own 404
        urllib.request.urlopen(f"https://localhost:{env.web_port}/", context=context, timeout=10)
    assert web.value.code == 404 and web.value.headers.get("server", "").startswith("nginx")

    # 1. check mode: planned, nothing written anywhere
    planned = env.run(PLAYBOOK, check=True, extra=extra)
    planned.assert_ok()
    assert "Provision the bucket and its key, credentials to OpenBao" in planned.changed_tasks()
    assert not config.exists()
    assert env.garage.ok("ListKeys") == []
    assert openbao.kv_read(kv_mount, f"garage/customers/{KEY_NAME}") is None
    assert pg.started_at() == started

    # 2. the real run
    applied = env.run(PLAYBOOK, extra=extra)
    applied.assert_ok()
    stanza_task = applied.task("Converge the stanza (configuration file, stanza-create when missing, check)")
    assert stanza_task.changed and stanza_task.result["stanza_created"] and stanza_task.result["checked"]
    backup_task = applied.task("Take a backup unless a recent enough one exists")
    assert backup_task.changed and backup_task.result["backup"]["type"] == "full"
    assert "Restart PostgreSQL with the configured command" in applied.changed_tasks()
    assert pg.sql("SHOW archive_mode") == "on"
    restarted = pg.started_at()
    assert restarted != started
    info = config.stat()
    assert (stat.S_IMODE(info.st_mode), info.st_uid) == (0o640, os.stat(pg.data).st_uid)
    stored = openbao.kv_read(kv_mount, f"garage/customers/{KEY_NAME}")
    assert stored is not None
    s3_secret = stored["data"]["secret_access_key"]
    env.secrets.append(s3_secret)
    assert f"repo1-s3-key-secret={s3_secret}\n" in config.read_text()
    units = sorted(os.listdir(f"{env.work}/systemd"))
    assert units == [f"pgbackrest-{STANZA}-{k}.{u}" for k in ("full", "incr") for u in ("service", "timer")]
    verify = subprocess.run(["systemd-analyze", "verify", *(f"{env.work}/systemd/{u}" for u in units)],
                            capture_output=True, text=True, check=False)  # fmt: skip
    assert verify.returncode == 0, verify.stdout + verify.stderr

    # 3. idempotence: a check run and a real run (-vvv) change nothing; PostgreSQL is not restarted
    again_check = env.run(PLAYBOOK, check=True, extra=extra)
    again_check.assert_ok()
    assert again_check.changed_tasks() == []
    again = env.run(PLAYBOOK, extra=extra, verbosity=3)
    again.assert_ok()
    assert again.changed_tasks() == []
    assert again.task("Converge the stanza (configuration file, stanza-create when missing, check)").result[
        "checked"]
    assert pg.started_at() == restarted

    # 4. rows, an incremental backup, rows, the point in time, rows that must not come back
    insert(pg, 1001, 1500)
    archive_now(pg)
    backups = env.run(tasks_play(env, [
        {"name": "Incremental", "cellar.garage.pgbackrest_backup": {"stanza": STANZA, "type": "incr", "max_age": "0"}},
        {"name": "Incremental again", "cellar.garage.pgbackrest_backup": {
            "stanza": STANZA, "type": "incr", "max_age": "1h"}},
        {"name": "Info", "cellar.garage.pgbackrest_info": {"stanza": STANZA}},
    ]), verbosity=3)  # fmt: skip
    backups.assert_ok()
    assert backups.task("Incremental").changed and backups.task("Incremental").result["backup"]["type"] == "incr"
    assert not backups.task("Incremental again").changed
    stanzas = backups.task("Info").result["stanzas"]
    assert backups.task("Info").result["exists"] is True
    assert [b["type"] for b in stanzas[0]["backups"]] == ["full", "incr"]
    assert stanzas[0]["status"] == {"code": 0, "message": "ok"}
    incr = stanzas[0]["backups"][1]
    assert incr["prior"] == stanzas[0]["backups"][0]["label"] and incr["repository_size"] > 0

    insert(pg, 1501, 1800)
    expected = table_digest(pg)
    target = pg.sql("SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') || '+00'")
    insert(pg, 1801, 2000)  # committed after the target: must not be restored
    pg.sql("DELETE FROM items WHERE id <= 10")
    archive_now(pg)
    assert table_digest(pg)[0] == 1990 and expected[0] == 1800

    # 5. restore into a fresh data directory, to the point in time
    restored = PgCluster(env.work, "restored")
    os.makedirs(restored.data, mode=0o700)
    chown_tree(restored.data)
    began = time.monotonic()
    as_postgres(["pgbackrest", f"--config={config}", f"--stanza={STANZA}", f"--pg1-path={restored.data}",
                 "--type=time", f"--target={target}", "--target-action=promote", "--archive-mode=off",
                 "restore"], timeout=300)  # fmt: skip
    restore_seconds = time.monotonic() - began
    restored.append_conf(restored.settings())
    restored.start()
    restored.wait_until("SELECT pg_is_in_recovery()", "f", timeout=120)
    ready_seconds = time.monotonic() - began
    assert table_digest(restored) == expected
    assert restored.sql("SELECT count(*) FROM items WHERE id > 1800") == "0"
    restored.stop("immediate")
    print(f"\nrestore: pgbackrest restore {restore_seconds:.1f}s, promoted and answering {ready_seconds:.1f}s")

    # 6. no secret in any output (all -vvv runs included), in the diff, or in a file others can read
    assert_no_secrets("\n".join(env.outputs), env.secrets, marker="Converge the stanza")
    assert world_readable_files_with([env.work], s3_secret) == []
    assert list(Path(tempfile.gettempdir()).glob("cellar-pgbackrest-*")) == []  # probe copies removed


def test_wrong_ca_wrong_secret_and_unreachable_fail_fast(env: Env, pg: PgCluster) -> None:
    """Each refused at once with a reason naming the cause; no configuration file is written."""
    if not os.path.exists(env.ca_file):  # this test alone: make the front
        env.run([{"hosts": "garage_tls_front", "gather_facts": False,
                  "roles": [{"role": "cellar.garage.garage_tls_front"}]}]).assert_ok()  # fmt: skip
    key_id, secret = env.garage.create_key("pgbr-faults")
    bucket = env.garage.ok("CreateBucket", body={"globalAlias": "pgbr-faults"})
    env.garage.ok("AllowBucketKey", body={"bucketId": bucket["id"], "accessKeyId": key_id,
                                          "permissions": {"read": True, "write": True, "owner": False}})  # fmt: skip
    other_ca = os.path.join(env.work, "other-ca.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-keyout", os.path.join(env.work, "other-ca.key"), "-out", other_ca, "-days", "2",
                    "-subj", "/CN=not the front's CA"], check=True, capture_output=True)  # fmt: skip
    os.chmod(other_ca, 0o644)
    front_ca = os.path.join(env.work, "front-ca.pem")  # the CA directory is private to the controller user
    shutil.copyfile(env.ca_file, front_ca)
    os.chmod(front_ca, 0o644)
    config = f"{env.work}/etc/faults.conf"
    wrong_secret = "0" * 64
    base = {"stanza": "faults", "pg_path": pg.data, "s3_url": env.s3_url, "s3_bucket": "pgbr-faults",
            "s3_key": key_id, "s3_key_secret": secret, "ca_file": front_ca, "config_file": config,
            "run_check": False}  # fmt: skip
    cases = {
        "wrong CA": {**base, "ca_file": other_ca},
        "wrong secret": {**base, "s3_key_secret": wrong_secret},
        "unreachable": {**base, "s3_url": f"https://localhost:{free_port()}"},
        "plain HTTP": {**base, "s3_url": env.garage.nodes[0].s3_url.replace("127.0.0.1", "localhost")},
    }
    tasks: list[dict[str, t.Any]] = []
    for name, args in cases.items():
        tasks += [
            {"name": f"{name} starts", "ansible.builtin.set_fact": {"started": "{{ now().timestamp() }}"}},
            {"name": name, "cellar.garage.pgbackrest_stanza": args, "ignore_errors": True},
            {"name": f"{name} took", "ansible.builtin.debug": {
                "msg": "{{ (now().timestamp() - (started | float)) | round(2) }}"}},
        ]  # fmt: skip
    result = env.run(tasks_play(env, tasks), verbosity=3)
    assert result.rc == 0, result.output
    reasons = {name: result.task(name).result.get("failure_reason") for name in cases}
    messages = {name: result.task(name).result["msg"] for name in cases}
    assert reasons == {"wrong CA": "repository_tls_failed", "wrong secret": "repository_credentials_refused",
                       "unreachable": "repository_unreachable", "plain HTTP": "invalid_input"}, messages  # fmt: skip
    assert "unable to verify certificate" in messages["wrong CA"] and "ca_file" in messages["wrong CA"]
    assert "Invalid signature" in messages["wrong secret"] and "s3_key_secret" in messages["wrong secret"]
    assert "Connection refused" in messages["unreachable"]
    assert "HTTPS" in messages["plain HTTP"]
    took = {name: float(result.task(f"{name} took").result["msg"]) for name in cases}
    print(f"\nfailure timings (task wall time, Ansible overhead included): {json.dumps(took)}")
    # Not a speed goal: pgBackRest's default io-timeout would hang silently for 60 s per case.
    assert all(seconds < 40 for seconds in took.values()), took
    assert not os.path.exists(config)
    assert_no_secrets(result.stdout + result.stderr, [secret, wrong_secret, env.garage.admin_token],
                      marker="wrong secret took")


@pytest.mark.parametrize("inventory", ["inventories/local", "inventories/gamma"])
def test_playbook_syntax(inventory: str) -> None:
    env = {"ANSIBLE_CONFIG": str(REPO_ROOT / "ansible.cfg"), "PATH": "/usr/bin:/bin"}
    argv = [_bin("ansible-playbook"), "--syntax-check", "playbooks/pgbackrest.yml", "-i", inventory]
    proc = subprocess.run(argv, cwd=REPO_ROOT, capture_output=True, text=True, check=False, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
