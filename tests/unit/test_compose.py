"""docker-compose.yml ships no default password and publishes nothing beyond loopback by default."""
import re
from pathlib import Path

import yaml

COMPOSE = Path(__file__).resolve().parents[2] / "docker-compose.yml"
SERVICES = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))["services"]


def _env(service: str) -> dict[str, str]:
    return {k: str(v) for k, v in SERVICES[service]["environment"].items()}


def test_the_password_comes_from_the_environment_or_compose_refuses_to_start():
    text = COMPOSE.read_text(encoding="utf-8")
    # ${VAR:?message} makes compose stop with the message when VAR is unset or empty
    assert "${NEO4J_PASSWORD:?" in _env("neo4j")["NEO4J_AUTH"]
    assert _env("api")["NEO4J_PASSWORD"].startswith("${NEO4J_PASSWORD:?")
    assert not re.search(r"NEO4J_PASSWORD:-", text), "a default password is back"


def test_every_port_is_published_on_loopback_unless_the_operator_says_otherwise():
    ports = [p for s in SERVICES.values() for p in s.get("ports", [])]
    assert len(ports) == 3
    for p in ports:
        assert p.startswith("${BIND_ADDRESS:-127.0.0.1}:"), p
