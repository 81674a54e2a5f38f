"""API keys: a JSON file of SHA-256 hashes with a name, roles and an optional expiry; the
plaintext is shown once.

File: `CREDITGRAPH_API_KEYS_FILE`, else `$CREDITGRAPH_DATA/api_keys.json`, mode 0600:
`{"keys": [{"name": "bank-a", "roles": ["service"], "sha256": "...", "created": "...",
"expires": "2027-02-01T00:00:00+00:00"}]}` (no `expires`: the key does not expire).
When each key was last used goes to a side file beside it (`api_keys.used.json`, hash ->
time), written at most once a minute per key and process, so serving never rewrites the keys
file (which the CLI edits) and a revocation is never undone by a server's write.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from fastapi import HTTPException, status

from creditgraph.api.access import Role
from creditgraph.base.files import private_dir, write_private
from creditgraph.base.settings import Settings, get_settings

KEY_PREFIX = "cg_"
TOUCH_EVERY_S = 60  # how stale "last used" may be: the price of not writing on every request

log = logging.getLogger("creditgraph.api")


@dataclass(frozen=True)
class Principal:
    name: str
    roles: frozenset[Role]


class KeyExpired(HTTPException):
    """A known key past its expiry: 401 saying so (raised by KeyRing.lookup, answered by FastAPI)."""

    def __init__(self, name: str, expires: datetime):
        super().__init__(status.HTTP_401_UNAUTHORIZED,
                         f"API key {name!r} expired on {expires:%Y-%m-%d %H:%M} UTC: ask an admin for a new one "
                         "(creditgraph apikey create NAME --role ROLE --days N)",
                         headers={"WWW-Authenticate": "Bearer"})


class KeysUnavailable(HTTPException):
    """The keys file cannot be read: 503 for every request (the server log says what is wrong)."""

    def __init__(self):
        super().__init__(status.HTTP_503_SERVICE_UNAVAILABLE,
                         "the API keys file cannot be read, so no key is accepted: an admin must fix it "
                         "(the server log names the file and the fault)", headers={"Retry-After": "60"})


def keys_path(settings: Settings | None = None) -> Path:
    env = os.environ.get("CREDITGRAPH_API_KEYS_FILE")
    if env:
        return Path(env)
    return (settings or get_settings()).data / "api_keys.json"


def used_path(path: Path) -> Path:
    """The side file of last uses beside the keys file."""
    return path.with_name(f"{path.stem}.used.json")


def hash_key(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode("utf-8")).hexdigest()


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _parse_roles(roles) -> list[str]:
    if isinstance(roles, str):
        roles = [roles]
    out = []
    for r in roles:
        try:
            out.append(Role(r).value)
        except ValueError:
            raise ValueError(f"unknown role {r!r}; choose from {', '.join(x.value for x in Role)}") from None
    if not out:
        raise ValueError("a key needs at least one role")
    return sorted(set(out))


def _read(path: Path) -> list[dict]:
    if not path.exists():
        return []
    data = json.loads(path.read_text(encoding="utf-8") or "{}")
    return list(data.get("keys", []))


def _write(path: Path, entries: list[dict]) -> None:
    with write_private(path, encoding="utf-8") as f:  # 0600 in a 0700 directory, renamed into place
        json.dump({"keys": entries}, f, ensure_ascii=False, indent=2)
        f.write("\n")


def create_key(name: str, roles, path: Path | None = None, expires: datetime | None = None) -> str:
    """Add a key named `name` with `roles` (valid until `expires`, if given) to the keys file;
    return the plaintext (shown once)."""
    name = (name or "").strip()
    if not name:
        raise ValueError("a key needs a name (who or what uses it)")
    role_values = _parse_roles(roles)
    if expires is not None and expires <= _now():
        raise ValueError(f"the expiry {expires:%Y-%m-%d %H:%M} UTC has passed; give a date in the future")
    path = Path(path) if path else keys_path()
    entries = _read(path)
    if any(e.get("name") == name for e in entries):
        raise ValueError(f"a key named {name!r} exists in {path}; revoke it first or pick another name")
    plaintext = KEY_PREFIX + secrets.token_urlsafe(32)
    entry = {"name": name, "roles": role_values, "sha256": hash_key(plaintext),
             "created": _now().isoformat(timespec="seconds")}
    if expires is not None:
        entry["expires"] = expires.astimezone(timezone.utc).isoformat(timespec="seconds")
    _write(path, [*entries, entry])
    return plaintext


def revoke_key(name: str, path: Path | None = None) -> bool:
    """Remove the key named `name`; a running server refuses it from its next request."""
    path = Path(path) if path else keys_path()
    entries = _read(path)
    kept = [e for e in entries if e.get("name") != name]
    if len(kept) != len(entries):
        _write(path, kept)
    return len(kept) != len(entries)


def list_keys(path: Path | None = None) -> list[dict]:
    """Each key's name, roles, created, last used, expiry and whether it has expired; never the
    key nor its hash."""
    path = Path(path) if path else keys_path()
    used = _read_used(used_path(path))
    now = _now()
    out = []
    for e in _read(path):
        expires = e.get("expires")
        out.append({"name": e.get("name"), "roles": e.get("roles", []), "created": e.get("created"),
                    "last_used": used.get(e.get("sha256")), "expires": expires,
                    "expired": bool(expires) and datetime.fromisoformat(expires) <= now})
    return out


def _read_used(path: Path) -> dict[str, str]:
    try:
        with open(path, encoding="utf-8") as f:
            fcntl.flock(f, fcntl.LOCK_SH)
            return _used_json(f.read())
    except FileNotFoundError:
        return {}


def _used_json(text: str) -> dict[str, str]:
    """The side file's map; a damaged one (a crash mid-write) starts afresh: it is only a hint."""
    try:
        return dict(json.loads(text or "{}"))
    except ValueError:
        return {}


def record_use(path: Path, sha256: str, when: datetime) -> None:
    """Set a key's last use in the side file (locked: several server processes write it)."""
    private_dir(path.parent)
    fd = os.open(used_path(path), os.O_RDWR | os.O_CREAT, 0o600)
    with os.fdopen(fd, "r+", encoding="utf-8") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        used = _used_json(f.read())
        used[sha256] = when.isoformat(timespec="seconds")
        f.seek(0)
        f.truncate()
        json.dump(used, f, indent=1)


@dataclass(frozen=True)
class _Entry:
    principal: Principal
    expires: datetime | None


class KeyRing:
    """The keys file, re-read when it changes: keys created, revoked or expired while the server
    runs take effect on the next request, without a restart."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._lock = threading.Lock()
        self._stamp: tuple[int, int, int] | None = None
        self._by_hash: dict[str, _Entry] = {}
        self._broken: str | None = None  # what is wrong with the keys file, if anything
        self._touched: dict[str, float] = {}  # hash -> when this process last wrote its use

    def _refresh(self) -> None:
        try:
            st = self.path.stat()
            stamp = (st.st_ino, st.st_mtime_ns, st.st_size)  # a rewrite replaces the file: new inode
        except FileNotFoundError:
            stamp = None
        if stamp != self._stamp:
            with self._lock:
                by_hash, self._broken = {}, None
                try:
                    for e in _read(self.path) if stamp else []:
                        roles = frozenset(Role(r) for r in e.get("roles", []) if r in Role._value2member_map_)
                        if e.get("sha256") and e.get("name") and roles:
                            expires = datetime.fromisoformat(e["expires"]) if e.get("expires") else None
                            by_hash[e["sha256"]] = _Entry(Principal(e["name"], roles), expires)
                except (OSError, ValueError, TypeError, AttributeError) as e:  # fail closed: no key works
                    by_hash, self._broken = {}, f"{self.path}: {type(e).__name__}: {e}"
                    log.error("API keys file unreadable, every request is refused (503) until it is fixed: %s",
                              self._broken)
                self._by_hash, self._stamp = by_hash, stamp
        if self._broken:
            raise KeysUnavailable()

    def lookup(self, plaintext: str) -> Principal | None:
        """The key's principal; None for an unknown or revoked key; KeyExpired past its expiry."""
        self._refresh()
        sha = hash_key(plaintext)
        entry = self._by_hash.get(sha)
        if entry is None:
            return None
        now = _now()
        if entry.expires is not None and entry.expires <= now:
            raise KeyExpired(entry.principal.name, entry.expires)
        self._touch(sha, now)
        return entry.principal

    def _touch(self, sha: str, now: datetime) -> None:
        """Record the use when this process has not recorded one for this key in a minute."""
        clock = time.monotonic()
        last = self._touched.get(sha)
        if last is not None and clock - last < TOUCH_EVERY_S:
            return
        self._touched[sha] = clock
        try:
            record_use(self.path, sha, now)
        except OSError as e:  # a read-only data dir must not refuse requests
            log.warning("could not record the use of a key in %s: %s", used_path(self.path), e)
