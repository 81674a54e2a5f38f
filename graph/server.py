"""A local Neo4j Community 5.26 server assembled from Maven Central (no Docker).

    install(home)  fetch the jars with Maven into ``home/lib`` (skipped when present)
    start(home)    write ``home/conf/neo4j.conf``, start the JVM detached, wait for Bolt
    stop(home)     SIGTERM the server's process group, SIGKILL after ``timeout``
    status(home)   a dict: running, pid, ports, URIs, auth, version, ...

``home`` defaults to ``$CREDITGRAPH_DATA/neo4j`` (``CREDITGRAPH_DATA`` defaults to ``./data``).
Layout under home: ``lib/`` (jars), ``conf/neo4j.conf`` (rewritten on every start),
``data/``, ``logs/`` (``neo4j.log``, ``debug.log``, ``console.log``), ``run/`` (pid and state).

Security: both connectors listen on 127.0.0.1 only. Authentication is disabled unless
``NEO4J_PASSWORD`` is set before the *first* start of a home: then the initial password of
user ``neo4j`` is set with ``neo4j-admin dbms set-initial-password`` and auth is enabled for
that home from then on (recorded in ``run/state.json``).

Command line: ``python -m creditgraph.graph.server install|start|stop|status`` (also
``scripts/neo4j-local``).
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

__all__ = [
    "NEO4J_VERSION",
    "BROWSER_VERSION",
    "Neo4jServerError",
    "default_home",
    "install",
    "is_installed",
    "start",
    "stop",
    "status",
    "main",
]

log = logging.getLogger("creditgraph.neo4j")

NEO4J_VERSION = "5.26.30"
BROWSER_VERSION = "5.24.0"
ENTRY_POINT = "org.neo4j.server.CommunityEntryPoint"
ADMIN_TOOL = "org.neo4j.cli.AdminTool"
DEFAULT_BOLT_PORT = 7687
DEFAULT_HTTP_PORT = 7474
LISTEN_HOST = "127.0.0.1"

# The JVM flags the official 5.26 launcher adds (bin/neo4j -> Neo4jCommand).
JVM_FLAGS = [
    "-XX:+UseG1GC",
    "-XX:-OmitStackTraceInFastThrow",
    "-XX:+UnlockExperimentalVMOptions",
    "-XX:+TrustFinalNonStaticFields",
    "-XX:+DisableExplicitGC",
    "-Djdk.nio.maxCachedBufferSize=1024",
    "-Dio.netty.tryReflectionSetAccessible=true",
    "--add-opens=java.base/java.nio=ALL-UNNAMED",
    "--add-opens=java.base/java.io=ALL-UNNAMED",
    "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
    "--enable-native-access=ALL-UNNAMED",
    "-Dlog4j2.disable.jmx=true",
]

# Jars whose presence means "installed" (install() skips the Maven run).
_KEY_JARS = (
    f"neo4j-{NEO4J_VERSION}.jar",
    f"neo4j-server-{NEO4J_VERSION}.jar",
    f"neo4j-browser-{BROWSER_VERSION}.jar",
)

POM = Path(__file__).resolve().parent / "neo4j" / "pom.xml"  # package data: wheels carry it

# Neo4j Browser opens ready for investigators: on connecting it applies the style and opens the
# guide of ready queries (cypher/browser/) in its sidebar, both served by the creditgraph API under
# /static/browser/ (api/browser_guide.py; no key, no person data). Neo4j's own HTTP server cannot
# serve them: its only static root is the Browser jar's browser/ folder (one classpath resource),
# and other content needs a compiled extension. The API is the one server that runs beside Neo4j
# both here and in docker-compose.yml, so both point Browser at it; while it is not running,
# Browser says it could not fetch them and works as before. CREDITGRAPH_API_URL: where
# `creditgraph serve` listens, as Browser reaches it (default: serve's default).
DEFAULT_API_URL = "http://127.0.0.1:8000"
BROWSER_STYLE_PATH = "/static/browser/style.grass"
BROWSER_GUIDE_PATH = "/static/browser/investigator.html"

# A credit centre's graph calls out to no one (docker-compose.yml sets the same):
# - the server sends no usage reports, and tells Browser to send no product analytics (so Browser
#   shows no banner asking either);
# - Browser fetches guides and styles from loopback only;
# - Browser's page may load scripts, styles and fonts from Neo4j itself only, and make HTTP calls
#   to loopback only (Bolt over WebSocket anywhere). Neo4j's default policy lets it load Segment's
#   and Canny's scripts and Google's fonts and send Sentry crash reports;
#   browser.allow_outgoing_connections, which Browser would read to skip them, is not a setting
#   of Neo4j 5.26 (the server refuses to start with it).
NO_CALLS_OUT = {
    "dbms.usage_report.enabled": "false",
    "client.allow_telemetry": "false",
    "browser.remote_content_hostname_whitelist": "127.0.0.1,localhost",
    "dbms.security.http_static_content_security_policy_header": (
        "default-src 'self'; script-src 'self'; img-src 'self' data:; "
        "style-src 'self' 'unsafe-inline'; font-src 'self'; base-uri 'none'; object-src 'none'; "
        "frame-ancestors 'none'; connect-src 'self' ws: wss: http://127.0.0.1:* http://localhost:*"),
}

# Popen objects of servers started by this process, so that they get reaped (no zombies).
_children: dict[int, subprocess.Popen] = {}


class Neo4jServerError(RuntimeError):
    """Install, start or stop failed; the message says why (with a log tail when useful)."""


# --------------------------------------------------------------------------- paths


def default_home() -> Path:
    """``$CREDITGRAPH_DATA/neo4j``; ``CREDITGRAPH_DATA`` defaults to ``./data``."""
    return Path(os.environ.get("CREDITGRAPH_DATA") or "./data") / "neo4j"


def _home(home: str | os.PathLike[str] | None) -> Path:
    return Path(home if home is not None else default_home()).expanduser().resolve()


resolve_home = _home  # public: the bulk import (graph/bulk.py) runs the admin tool on a home


def _pid_file(home: Path) -> Path:
    return home / "run" / "neo4j.pid"


def _state_file(home: Path) -> Path:
    return home / "run" / "state.json"


def _console_log(home: Path) -> Path:
    return home / "logs" / "console.log"


def _read_state(home: Path) -> dict[str, Any]:
    try:
        return json.loads(_state_file(home).read_text())
    except (OSError, ValueError):
        return {}


def _write_state(home: Path, state: dict[str, Any]) -> None:
    path = _state_file(home)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=2, sort_keys=True) + "\n")
    tmp.replace(path)


@contextlib.contextmanager
def _lock(home: Path):
    """Serialise install/start/stop on one home across processes."""
    path = home / "run" / "neo4j.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


# --------------------------------------------------------------------------- java / maven


def _java() -> str:
    java_home = os.environ.get("JAVA_HOME")
    if java_home:
        exe = Path(java_home) / "bin" / "java"
        if not exe.is_file():
            raise Neo4jServerError(f"JAVA_HOME={java_home} but {exe} does not exist")
        return str(exe)
    exe = shutil.which("java")
    if not exe:
        raise Neo4jServerError("no java: set JAVA_HOME or put java (JDK 17 or 21) on PATH")
    return exe


def _java_major(java: str) -> int | None:
    try:
        out = subprocess.run(
            [java, "-version"], capture_output=True, text=True, timeout=30
        ).stderr
    except (OSError, subprocess.SubprocessError):
        return None
    m = re.search(r'version "(\d+)(?:\.(\d+))?', out)
    if not m:
        return None
    major = int(m.group(1))
    return int(m.group(2)) if major == 1 and m.group(2) else major


java = _java  # public: the bulk import runs the admin tool with the server's java


def is_installed(home: str | os.PathLike[str] | None = None) -> bool:
    lib = _home(home) / "lib"
    return all((lib / jar).is_file() for jar in _KEY_JARS)


def install(home: str | os.PathLike[str] | None = None, *, force: bool = False) -> dict[str, Any]:
    """Copy Neo4j's jars from Maven Central into ``home/lib`` (skipped when already there).

    Returns ``{"lib", "skipped", "seconds", "jars"}``.
    """
    home = _home(home)
    home.mkdir(parents=True, exist_ok=True)
    lib = home / "lib"
    with _lock(home):
        if is_installed(home) and not force:
            log.info("Neo4j %s already installed in %s", NEO4J_VERSION, lib)
            return {"lib": str(lib), "skipped": True, "seconds": 0.0,
                    "jars": len(list(lib.glob("*.jar")))}
        mvn = shutil.which("mvn")
        if not mvn:
            raise Neo4jServerError("Maven (mvn) is needed to fetch Neo4j's jars; not on PATH")
        staging = home / "lib.partial"
        shutil.rmtree(staging, ignore_errors=True)
        t0 = time.monotonic()
        cmd = [mvn, "-B", "-q", "-f", str(POM), "dependency:copy-dependencies",
               f"-DoutputDirectory={staging}", "-DincludeScope=runtime"]
        log.info("Fetching Neo4j %s jars with Maven (first run downloads ~140 MB)...", NEO4J_VERSION)
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            shutil.rmtree(staging, ignore_errors=True)
            out = (proc.stdout + proc.stderr).strip().splitlines()
            raise Neo4jServerError(
                "mvn dependency:copy-dependencies failed (exit %d):\n%s"
                % (proc.returncode, "\n".join(out[-40:]))
            )
        missing = [j for j in _KEY_JARS if not (staging / j).is_file()]
        if missing:
            raise Neo4jServerError(f"Maven ran but these jars are missing: {missing}")
        if lib.exists():
            shutil.rmtree(lib)
        staging.rename(lib)
        seconds = round(time.monotonic() - t0, 1)
        jars = len(list(lib.glob("*.jar")))
        log.info("Installed Neo4j %s (%d jars) in %s in %.1fs", NEO4J_VERSION, jars, lib, seconds)
        return {"lib": str(lib), "skipped": False, "seconds": seconds, "jars": jars}


# --------------------------------------------------------------------------- processes


def _proc_cmdline(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [a.decode(errors="replace") for a in raw.split(b"\0") if a]


def _alive(pid: int) -> bool:
    child = _children.get(pid)
    if child is not None:
        if child.poll() is None:
            return True
        _children.pop(pid, None)
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie is not alive
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def _is_our_server(pid: int, home: Path) -> bool:
    """``pid`` is alive and is the Neo4j JVM of ``home`` (guards against pid reuse)."""
    if not _alive(pid):
        return False
    args = _proc_cmdline(pid)
    if not args:  # no /proc (not Linux): trust the pid file
        return True
    return ENTRY_POINT in args and f"--home-dir={home}" in args


def _read_pid(home: Path) -> int | None:
    try:
        return int(_pid_file(home).read_text().strip())
    except (OSError, ValueError):
        return None


def _running_pid(home: Path) -> int | None:
    pid = _read_pid(home)
    if pid is not None and _is_our_server(pid, home):
        return pid
    return None


def _port_open(port: int, host: str = LISTEN_HOST, timeout: float = 0.5) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        return s.connect_ex((host, port)) == 0


def _tail(path: Path, lines: int = 30) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def _logs_tail(home: Path, lines: int = 30) -> str:
    """The console log holds JVM output and crashes; neo4j.log holds Neo4j's own messages
    (the server suppresses console logging when detached)."""
    parts = []
    for path in (_console_log(home), home / "logs" / "neo4j.log"):
        tail = _tail(path, lines)
        if tail.strip():
            parts.append(f"--- tail of {path} ---\n{tail}")
    return "\n".join(parts) if parts else f"(no output in {home / 'logs'})"


# --------------------------------------------------------------------------- config / auth

_SIZE = re.compile(r"^\d+[kKmMgG]?$")


def _write_conf(home: Path, bolt_port: int, http_port: int, heap: str, pagecache: str,
                auth: bool) -> Path:
    """Write ``home/conf/neo4j.conf``; settings in ``conf/neo4j-extra.conf`` override or add
    to the generated ones (Neo4j rejects a setting declared twice, so they are merged)."""
    conf = home / "conf" / "neo4j.conf"
    conf.parent.mkdir(parents=True, exist_ok=True)
    settings = {
        "server.default_listen_address": LISTEN_HOST,
        "server.bolt.listen_address": f"{LISTEN_HOST}:{bolt_port}",
        "server.bolt.advertised_address": f"{LISTEN_HOST}:{bolt_port}",
        "server.http.listen_address": f"{LISTEN_HOST}:{http_port}",
        "server.http.advertised_address": f"{LISTEN_HOST}:{http_port}",
        "server.https.enabled": "false",
        "server.directories.data": str(home / "data"),
        "server.directories.logs": str(home / "logs"),
        "server.directories.run": str(home / "run"),
        "server.directories.import": str(home / "import"),
        "server.directories.plugins": str(home / "plugins"),
        "server.memory.heap.initial_size": heap,
        "server.memory.heap.max_size": heap,
        "server.memory.pagecache.size": pagecache,
        **NO_CALLS_OUT,
        "browser.post_connect_cmd": post_connect_cmd(
            os.environ.get("CREDITGRAPH_API_URL") or DEFAULT_API_URL),
        # Keep transaction logs from growing without bound (they reached 15 GB in a 1M load).
        "db.tx_log.rotation.retention_policy": "2 files",
        "dbms.security.auth_enabled": "true" if auth else "false",
    }
    extra = home / "conf" / "neo4j-extra.conf"
    if extra.is_file():
        for line in extra.read_text().splitlines():
            line = line.strip()
            if line and not line.startswith("#") and "=" in line:
                key, value = line.split("=", 1)
                settings[key.strip()] = value.strip()
    lines = [
        "# Written by graph/server.py on every start: edit conf/neo4j-extra.conf instead",
        "# (its settings override these; the JVM heap comes from start(heap=...)).",
        *(f"{k}={v}" for k, v in settings.items()),
    ]
    conf.write_text("\n".join(lines) + "\n")
    return conf


def post_connect_cmd(api_url: str) -> str:
    """Browser's commands on connecting: the style applied, the guide open in its sidebar."""
    api = api_url.rstrip("/")
    return f"style {api}{BROWSER_STYLE_PATH}; guide {api}{BROWSER_GUIDE_PATH}"


def _first_start(home: Path) -> bool:
    return not (home / "data" / "databases" / "system").exists()


def _set_initial_password(home: Path, java: str, password: str) -> None:
    env = dict(os.environ, NEO4J_HOME=str(home), NEO4J_CONF=str(home / "conf"))
    proc = subprocess.run(
        [java, "-cp", str(home / "lib" / "*"), ADMIN_TOOL,
         "dbms", "set-initial-password", password],
        capture_output=True, text=True, env=env, cwd=home, timeout=300,
    )
    if proc.returncode != 0:
        out = (proc.stdout + proc.stderr).strip()
        raise Neo4jServerError(f"neo4j-admin dbms set-initial-password failed:\n{out}")


def _driver_auth(auth: bool) -> tuple[str, str] | None:
    if not auth:
        return None
    password = os.environ.get("NEO4J_PASSWORD")
    if not password:
        raise Neo4jServerError(
            "this Neo4j home was initialised with a password: set NEO4J_PASSWORD")
    return (os.environ.get("NEO4J_USER") or "neo4j", password)


def _verify(uri: str, auth: tuple[str, str] | None) -> None:
    from neo4j import GraphDatabase  # imported late: install/stop/status do not need it

    with GraphDatabase.driver(uri, auth=auth, connection_timeout=2.0,
                              max_connection_pool_size=1) as driver:
        driver.verify_connectivity()


# --------------------------------------------------------------------------- API


def start(home: str | os.PathLike[str] | None = None, bolt_port: int = DEFAULT_BOLT_PORT,
          http_port: int = DEFAULT_HTTP_PORT, heap: str = "1g", pagecache: str = "512m",
          wait: float = 120) -> int:
    """Start the server detached and wait until Bolt accepts a driver; returns the pid.

    Installs the jars first when needed. When the server of this home is already running,
    says so and returns its pid. On death or timeout raises Neo4jServerError with the log tail
    (a server that did not get ready in ``wait`` seconds is stopped).
    """
    home = _home(home)
    for name, size in (("heap", heap), ("pagecache", pagecache)):
        if not _SIZE.match(size):
            raise Neo4jServerError(f"{name} must look like 512m or 1g, not {size!r}")
    pid = _running_pid(home)
    if pid is not None:
        log.info("Neo4j already running (pid %d, home %s)", pid, home)
        return pid
    install(home)
    java = _java()
    major = _java_major(java)
    if major is not None and major < 17:
        raise Neo4jServerError(f"Neo4j {NEO4J_VERSION} needs Java 17 or 21; {java} is {major}")

    with _lock(home):
        pid = _running_pid(home)
        if pid is not None:
            log.info("Neo4j already running (pid %d, home %s)", pid, home)
            return pid
        for port in (bolt_port, http_port):
            if _port_open(port):
                raise Neo4jServerError(
                    f"port {port} on {LISTEN_HOST} is already in use by another process "
                    "(another Neo4j?); stop it or pass other ports")
        for sub in ("data", "logs", "run", "import", "plugins"):
            (home / sub).mkdir(parents=True, exist_ok=True)

        state = _read_state(home)
        first = _first_start(home)
        password = os.environ.get("NEO4J_PASSWORD") or ""
        if first:
            auth = bool(password)
        else:
            auth = bool(state.get("auth", False))
            if password and not auth:
                log.warning("NEO4J_PASSWORD is set but %s was first started without a "
                            "password: auth stays disabled (delete %s to start afresh)",
                            home, home / "data")
        _write_conf(home, bolt_port, http_port, heap, pagecache, auth)
        if first and auth:
            if len(password) < 8:
                raise Neo4jServerError("NEO4J_PASSWORD must be at least 8 characters")
            _set_initial_password(home, java, password)
        driver_auth = _driver_auth(auth)

        console = _console_log(home)
        if console.exists() and console.stat().st_size:
            console.replace(console.with_suffix(".log.1"))
        cmd = [java, f"-Xms{heap}", f"-Xmx{heap}", *JVM_FLAGS,
               "-cp", str(home / "lib" / "*"), ENTRY_POINT,
               f"--home-dir={home}", f"--config-dir={home / 'conf'}"]
        env = dict(os.environ, NEO4J_HOME=str(home), NEO4J_CONF=str(home / "conf"))
        with open(console, "ab") as out:
            proc = subprocess.Popen(cmd, cwd=home, stdin=subprocess.DEVNULL, stdout=out,
                                    stderr=subprocess.STDOUT, env=env,
                                    start_new_session=True, close_fds=True)
        _children[proc.pid] = proc
        _pid_file(home).write_text(f"{proc.pid}\n")
        _write_state(home, {
            "pid": proc.pid, "auth": auth, "bolt_port": bolt_port, "http_port": http_port,
            "heap": heap, "pagecache": pagecache, "version": NEO4J_VERSION,
            "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        })
        log.info("Starting Neo4j %s (pid %d, home %s)...", NEO4J_VERSION, proc.pid, home)

    uri = f"bolt://{LISTEN_HOST}:{bolt_port}"
    t0 = time.monotonic()
    deadline = t0 + wait
    last_error: Exception | None = None
    try:
        while True:
            if proc.poll() is not None:
                _pid_file(home).unlink(missing_ok=True)
                raise Neo4jServerError(
                    f"Neo4j exited with code {proc.returncode} while starting\n"
                    + _logs_tail(home))
            if _port_open(bolt_port):
                try:
                    _verify(uri, driver_auth)
                    if _port_open(http_port):  # HTTP (Browser) comes up a moment after Bolt
                        break
                    last_error = Neo4jServerError(f"HTTP port {http_port} not open yet")
                except Exception as exc:  # noqa: BLE001 - not ready yet, or auth error
                    last_error = exc
                    if type(exc).__name__ in ("AuthError", "Unauthorized"):
                        raise Neo4jServerError(
                            f"Neo4j is up but refused the credentials: {exc}") from exc
            if time.monotonic() > deadline:
                raise Neo4jServerError(
                    f"Neo4j was not ready on {uri} within {wait:.0f}s "
                    f"(last error: {last_error}); stopped it\n" + _logs_tail(home))
            time.sleep(0.5)
    except BaseException:
        if proc.poll() is None:
            _stop_pid(home, proc.pid, timeout=30)
        raise
    log.info("Neo4j ready in %.1fs: %s, browser http://%s:%d/browser/",
             time.monotonic() - t0, uri, LISTEN_HOST, http_port)
    return proc.pid


def _stop_pid(home: Path, pid: int, timeout: float) -> None:
    def signal_group(sig: int) -> None:
        try:
            os.killpg(pid, sig)  # the server leads its own session / process group
        except ProcessLookupError:
            pass
        except PermissionError:
            os.kill(pid, sig)

    signal_group(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    if _alive(pid):
        log.warning("Neo4j (pid %d) still running after %.0fs: killing it", pid, timeout)
        signal_group(signal.SIGKILL)
        deadline = time.monotonic() + 10
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
    _children.pop(pid, None)
    _pid_file(home).unlink(missing_ok=True)


def stop(home: str | os.PathLike[str] | None = None, timeout: float = 30) -> bool:
    """SIGTERM the server, SIGKILL after ``timeout`` seconds; True if one was running."""
    home = _home(home)
    with _lock(home):
        pid = _running_pid(home)
        if pid is None:
            _pid_file(home).unlink(missing_ok=True)
            log.info("Neo4j is not running (home %s)", home)
            return False
        log.info("Stopping Neo4j (pid %d)...", pid)
        t0 = time.monotonic()
        _stop_pid(home, pid, timeout)
        log.info("Neo4j stopped in %.1fs", time.monotonic() - t0)
        return True


def status(home: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """Whether the server of ``home`` runs, and where to reach it."""
    home = _home(home)
    state = _read_state(home)
    pid = _running_pid(home)
    bolt_port = int(state.get("bolt_port", DEFAULT_BOLT_PORT))
    http_port = int(state.get("http_port", DEFAULT_HTTP_PORT))
    running = pid is not None
    return {
        "running": running,
        "pid": pid,
        "home": str(home),
        "installed": is_installed(home),
        "version": NEO4J_VERSION,
        "auth": bool(state.get("auth", False)),
        "bolt_uri": f"bolt://{LISTEN_HOST}:{bolt_port}",
        "http_url": f"http://{LISTEN_HOST}:{http_port}/",
        "browser_url": f"http://{LISTEN_HOST}:{http_port}/browser/",
        "bolt_port": bolt_port,
        "http_port": http_port,
        "bolt_listening": running and _port_open(bolt_port),
        "http_listening": running and _port_open(http_port),
        "started_at": state.get("started_at") if running else None,
        "heap": state.get("heap"),            # as last started: a restart keeps them
        "pagecache": state.get("pagecache"),
        "logs": str(home / "logs"),
    }


# --------------------------------------------------------------------------- CLI


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m creditgraph.graph.server",
                                     description="Local Neo4j Community server (no Docker).")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--home", help="server home (default $CREDITGRAPH_DATA/neo4j)")
    sub = parser.add_subparsers(dest="command", required=True)
    p_install = sub.add_parser("install", parents=[common], help="fetch the jars with Maven")
    p_install.add_argument("--force", action="store_true", help="fetch again")
    p_start = sub.add_parser("start", parents=[common], help="start and wait until Bolt is ready")
    p_start.add_argument("--bolt-port", type=int, default=DEFAULT_BOLT_PORT)
    p_start.add_argument("--http-port", type=int, default=DEFAULT_HTTP_PORT)
    p_start.add_argument("--heap", default="1g")
    p_start.add_argument("--pagecache", default="512m")
    p_start.add_argument("--wait", type=float, default=120, help="seconds (default 120)")
    p_stop = sub.add_parser("stop", parents=[common], help="SIGTERM, then SIGKILL after --timeout")
    p_stop.add_argument("--timeout", type=float, default=30)
    p_status = sub.add_parser("status", parents=[common], help="exit 0 when running, 3 when not")
    p_status.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    logging.basicConfig(level=logging.INFO, format="neo4j: %(message)s", stream=sys.stderr)
    try:
        if args.command == "install":
            install(args.home, force=args.force)
        elif args.command == "start":
            start(args.home, bolt_port=args.bolt_port, http_port=args.http_port,
                  heap=args.heap, pagecache=args.pagecache, wait=args.wait)
        elif args.command == "stop":
            stop(args.home, timeout=args.timeout)
        else:
            info = status(args.home)
            if args.json:
                print(json.dumps(info, indent=2))
            elif info["running"]:
                print(f"running  pid {info['pid']}  {info['bolt_uri']}  {info['browser_url']}"
                      f"  auth={'on' if info['auth'] else 'off'}  home {info['home']}")
            else:
                print(f"stopped  home {info['home']}"
                      + ("" if info["installed"] else "  (not installed)"))
            return 0 if info["running"] else 3
    except Neo4jServerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
