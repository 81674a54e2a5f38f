"""API keys: a JSON file of SHA-256 hashes with a name and roles; the plaintext is shown once.

File: `CREDITGRAPH_API_KEYS_FILE`, else `$CREDITGRAPH_DATA/api_keys.json`, mode 0600:
`{"keys": [{"name": "bank-a", "roles": ["service"], "sha256": "...", "created": "..."}]}`.
"""
from __future__ import annotations

import hashlib
import json
import os
import secrets
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from creditgraph.api.access import Role
from creditgraph.base.settings import Settings, get_settings

KEY_PREFIX = "cg_"


@dataclass(frozen=True)
class Principal:
    name: str
    roles: frozenset[Role]


def keys_path(settings: Settings | None = None) -> Path:
    env = os.environ.get("CREDITGRAPH_API_KEYS_FILE")
    if env:
        return Path(env)
    return (settings or get_settings()).data / "api_keys.json"


def hash_key(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode("utf-8")).hexdigest()


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
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump({"keys": entries}, f, ensure_ascii=False, indent=2)
        f.write("\n")
    os.replace(tmp, path)


def create_key(name: str, roles, path: Path | None = None) -> str:
    """Add a key named `name` with `roles` to the keys file; return the plaintext (shown once)."""
    name = (name or "").strip()
    if not name:
        raise ValueError("a key needs a name (who or what uses it)")
    role_values = _parse_roles(roles)
    path = Path(path) if path else keys_path()
    entries = _read(path)
    if any(e.get("name") == name for e in entries):
        raise ValueError(f"a key named {name!r} exists in {path}; revoke it first or pick another name")
    plaintext = KEY_PREFIX + secrets.token_urlsafe(32)
    entries.append({"name": name, "roles": role_values, "sha256": hash_key(plaintext),
                    "created": datetime.now(timezone.utc).isoformat(timespec="seconds")})
    _write(path, entries)
    return plaintext


def revoke_key(name: str, path: Path | None = None) -> bool:
    path = Path(path) if path else keys_path()
    entries = _read(path)
    kept = [e for e in entries if e.get("name") != name]
    if len(kept) != len(entries):
        _write(path, kept)
    return len(kept) != len(entries)


class KeyRing:
    """The keys file, re-read when it changes (keys created while the server runs work)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._by_hash: dict[str, Principal] = {}

    def _refresh(self) -> None:
        try:
            st = self.path.stat()
            stamp = (st.st_mtime_ns, st.st_size)
        except FileNotFoundError:
            stamp = None
        if stamp == self._stamp:
            return
        with self._lock:
            by_hash = {}
            for e in _read(self.path) if stamp else []:
                roles = frozenset(Role(r) for r in e.get("roles", []) if r in Role._value2member_map_)
                if e.get("sha256") and e.get("name") and roles:
                    by_hash[e["sha256"]] = Principal(e["name"], roles)
            self._by_hash, self._stamp = by_hash, stamp

    def lookup(self, plaintext: str) -> Principal | None:
        self._refresh()
        return self._by_hash.get(hash_key(plaintext))
