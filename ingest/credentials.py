"""Broker credentials from the device registry: a Mosquitto password file and topic ACLs.

Every registered device logs in as its own device id and may publish only to its own reading
topic (``{prefix}/v1/{council}/{stream}/{device_id}``) and its retained status topic. Service
users (ingest, the API's health probe) read every reading topic. Phones are not registered, so
their bump reports come in through one app-gateway user allowed to publish to any council's
phone streams. Pure functions; the command in :mod:`ingest.credentials_cli` does the I/O.
"""

import base64
import csv
import hashlib
import hmac
import io
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ingest.contract.topics import (
    CONTRACT_VERSION,
    DEVICE_ID_PATTERN,
    STREAM_OF_KIND,
    Stream,
    build_topic,
    status_topic,
)
from ingest.db.registry import RegisteredDevice
from ingest.errors import PermanentError

PBKDF2_ITERATIONS = 101
"""What ``mosquitto_passwd`` uses; Mosquitto reads the count from each line, so more also works."""
SALT_BYTES = 12
PASSWORD_BYTES = 24
CSV_COLUMNS = ("username", "password", "role", "topic")


class CredentialsError(PermanentError):
    """Broker credentials that cannot be generated (clashing names, a bad passwords file)."""


@dataclass(frozen=True, slots=True)
class BrokerUser:
    """One broker login and the topics it may use (Mosquitto ACL access words)."""

    username: str
    role: str
    write: tuple[str, ...] = ()
    read: tuple[str, ...] = ()
    readwrite: tuple[str, ...] = ()


def hash_password(
    password: str, salt: bytes | None = None, iterations: int = PBKDF2_ITERATIONS
) -> str:
    """Return Mosquitto's PBKDF2-SHA512 hash ``$7$<iterations>$<salt>$<hash>`` (standard base64).

    ``salt`` is for tests only; by default a fresh random one is drawn.
    """
    if iterations < 1:
        raise ValueError(f"Expected iterations >= 1, got {iterations}.")
    salt = secrets.token_bytes(SALT_BYTES) if salt is None else salt
    digest = hashlib.pbkdf2_hmac("sha512", password.encode("utf-8"), salt, iterations)
    encoded = (base64.b64encode(part).decode("ascii") for part in (salt, digest))
    return f"$7${iterations}${'$'.join(encoded)}"


def verify_password(password: str, hashed: str) -> bool:
    """Whether ``password`` matches a ``$7$`` hash as written by :func:`hash_password`."""
    parts = hashed.split("$")
    if len(parts) != 5 or parts[1] != "7" or not parts[2].isdigit():
        return False
    salt = base64.b64decode(parts[3])
    digest = hashlib.pbkdf2_hmac("sha512", password.encode("utf-8"), salt, int(parts[2]))
    return hmac.compare_digest(base64.b64encode(digest).decode("ascii"), parts[4])


def new_password() -> str:
    """A random password (URL-safe text, 192 bits).

    Not seeded, unlike everything else random in smartstreets: a reproducible secret is no secret.
    """
    return secrets.token_urlsafe(PASSWORD_BYTES)


def device_user(prefix: str, device: RegisteredDevice) -> BrokerUser:
    """A registered bin or counter: publish to its own reading topic and its status topic."""
    stream = STREAM_OF_KIND.get(device.kind)
    if stream is None:
        raise CredentialsError(f"device {device.device_id} has unknown kind {device.kind!r}")
    reading = build_topic(prefix, device.council, stream, device.device_id)
    return BrokerUser(
        device.device_id, "device", write=(reading, status_topic(prefix, device.device_id))
    )


def service_user(prefix: str, username: str) -> BrokerUser:
    """A platform service: read every reading topic, announce itself under ``…/status/``."""
    return BrokerUser(
        username,
        "service",
        read=(f"{prefix}/{CONTRACT_VERSION}/#",),
        readwrite=(f"{prefix}/status/#",),
    )


def gateway_user(prefix: str, username: str) -> BrokerUser:
    """The app gateway that relays what phones publish (phones are not registered).

    The gateway authenticates phones itself and publishes for them, to any council's phone
    streams (every stream that no registered kind of device publishes: bump reports and the like).
    """
    phone = [s for s in Stream if s not in STREAM_OF_KIND.values()]
    topics = tuple(f"{prefix}/{CONTRACT_VERSION}/+/{s.value}/+" for s in phone)
    return BrokerUser(username, "gateway", write=(*topics, status_topic(prefix, username)))


def broker_users(
    prefix: str,
    devices: Iterable[RegisteredDevice],
    services: Iterable[str] = ("ingest", "api"),
    gateway: str | None = "app-gateway",
) -> list[BrokerUser]:
    """Every broker login: services first, then the gateway, then devices by id.

    Raises :class:`CredentialsError` when a name is used twice or cannot be a device id.
    """
    users = [service_user(prefix, name) for name in services]
    if gateway is not None:
        users.append(gateway_user(prefix, gateway))
    for name in (u.username for u in users):
        if not _valid_username(name):
            raise CredentialsError(f"user name {name!r} does not match {DEVICE_ID_PATTERN}")
    users += [device_user(prefix, d) for d in sorted(devices, key=lambda d: d.device_id)]
    seen: set[str] = set()
    for user in users:
        if user.username in seen:
            raise CredentialsError(f"user name {user.username!r} is used twice")
        seen.add(user.username)
    return users


def _valid_username(name: str) -> bool:
    return re.fullmatch(DEVICE_ID_PATTERN, name) is not None


def render_acl(prefix: str, users: Iterable[BrokerUser]) -> str:
    """Mosquitto's ``acl_file``: anonymous clients get nothing, each user only its own lines."""
    lines = [
        "# Generated by 'smartstreets devices credentials'; edits are lost on the next run.",
        f"# Topic prefix {prefix!r}. Anything not listed is denied (anonymous clients: all).",
    ]
    for user in users:
        lines += ["", f"# {user.role}", f"user {user.username}"]
        lines += [f"topic write {t}" for t in user.write]
        lines += [f"topic read {t}" for t in user.read]
        lines += [f"topic readwrite {t}" for t in user.readwrite]
    return "\n".join(lines) + "\n"


def render_password_file(users: Iterable[BrokerUser], passwords: Mapping[str, str]) -> str:
    """Mosquitto's ``password_file``: one ``user:$7$…`` line per user, in the users' order."""
    return "".join(f"{u.username}:{hash_password(passwords[u.username])}\n" for u in users)


def assign_passwords(
    users: Iterable[BrokerUser], known: Mapping[str, str]
) -> tuple[dict[str, str], int]:
    """Keep the known passwords, draw new ones for the rest; return them and how many are new."""
    passwords: dict[str, str] = {}
    fresh = 0
    for user in users:
        if user.username in known:
            passwords[user.username] = known[user.username]
        else:
            passwords[user.username] = new_password()
            fresh += 1
    return passwords, fresh


def parse_passwords_csv(text: str, source: str = "passwords") -> dict[str, str]:
    """Read a provisioning CSV (``username,password[,…]``) back into user -> password."""
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in ("username", "password") if c not in (reader.fieldnames or ())]
    if missing:
        raise CredentialsError(f"{source}: missing column(s) {', '.join(missing)}")
    passwords: dict[str, str] = {}
    for line, row in enumerate(reader, start=2):
        name, password = (row.get("username") or "").strip(), row.get("password") or ""
        if not name or not password:
            raise CredentialsError(f"{source}:{line}: empty username or password")
        if name in passwords:
            raise CredentialsError(f"{source}:{line}: user {name!r} listed twice")
        passwords[name] = password
    return passwords


def render_passwords_csv(users: Iterable[BrokerUser], passwords: Mapping[str, str]) -> str:
    """The provisioning CSV: each user's password, role and first topic it publishes or reads."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for user in users:
        topics = user.write or user.read
        writer.writerow([user.username, passwords[user.username], user.role, topics[0]])
    return out.getvalue()
