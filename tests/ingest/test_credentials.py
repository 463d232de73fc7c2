"""Broker credentials: Mosquitto password hashes, per-device ACLs, a real Mosquitto obeying them."""

import base64
import csv
import os
import re
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import psycopg
import pytest
from typer.testing import CliRunner

from deploy.cli import app
from deploy.embedded import free_port
from ingest.credentials import (
    BrokerUser,
    CredentialsError,
    assign_passwords,
    broker_users,
    hash_password,
    parse_passwords_csv,
    render_acl,
    render_password_file,
    verify_password,
)
from ingest.db.registry import RegisteredDevice
from ingest.errors import TransientError
from ingest.mqtt import close_client, open_client
from tests.helpers import wait_for
from tests.services import scratch_database

runner = CliRunner()

# Written by ``mosquitto_passwd -b -c FILE alice secret`` (Mosquitto 2.0.11).
MOSQUITTO_LINE = (
    "alice:$7$101$+tcI/Z9d0XIWCOK/$JAlD8wl6B54a2lcs1xHUUqSZB7RBEeLTZdMV8Tt+ykn+wHcCNYyUe0rdvU1G7EY5"
    "51ssVdKLIt/n6KtoPH7Ocg=="
)


def _devices(council: str, uid: str) -> list[RegisteredDevice]:
    return [
        RegisteredDevice(f"bin-{uid}-1", council, "bin", None),
        RegisteredDevice(f"bin-{uid}-2", council, "bin", None),
        RegisteredDevice(f"ctr-{uid}-1", council, "counter", "market"),
    ]


def test_hash_matches_mosquitto_passwd() -> None:
    """Given mosquitto_passwd's salt, the hash is byte for byte the line it wrote."""
    user, hashed = MOSQUITTO_LINE.split(":", 1)
    salt = base64.b64decode(hashed.split("$")[3])
    assert f"{user}:{hash_password('secret', salt)}" == MOSQUITTO_LINE
    assert verify_password("secret", hashed)
    assert not verify_password("Secret", hashed)


def test_hash_format_and_fresh_salt() -> None:
    """Hashes are $7$101$<16 base64 chars>$<88 base64 chars>, salted afresh every time."""
    first, second = hash_password("pw"), hash_password("pw")
    pattern = r"\$7\$101\$[A-Za-z0-9+/]{16}\$[A-Za-z0-9+/]{86}=="
    assert re.fullmatch(pattern, first) and re.fullmatch(pattern, second)
    assert first != second
    assert verify_password("pw", first) and verify_password("pw", second)


def test_acl_gives_each_device_only_its_own_topics() -> None:
    """Bins publish bin-fill, counters footfall, each to its own topic and status, nothing else."""
    users = broker_users("sst", _devices("rutland", "a"), ["ingest"], "gw")
    acl = render_acl("sst", users)
    blocks = {b.split("\n")[1]: b for b in acl.split("\n\n")[1:]}
    assert blocks["user bin-a-1"].splitlines()[2:] == [
        "topic write sst/v1/rutland/bin-fill/bin-a-1",
        "topic write sst/status/bin-a-1",
    ]
    assert blocks["user ctr-a-1"].splitlines()[2:] == [
        "topic write sst/v1/rutland/footfall/ctr-a-1",
        "topic write sst/status/ctr-a-1",
    ]
    assert "topic read sst/v1/#" in blocks["user ingest"]
    assert "topic write sst/v1/+/bump/+" in blocks["user gw"]
    # Lines before the first "user" would apply to anonymous clients: there are none.
    assert not any(line.startswith("topic") for line in acl.split("\nuser ")[0].splitlines())


@pytest.mark.parametrize(
    ("services", "gateway", "message"),
    [
        (["ingest", "ingest"], None, "used twice"),
        (["bin-a-1"], None, "used twice"),
        (["ingest"], "bin-a-2", "used twice"),
        (["in gest"], None, "does not match"),
    ],
)
def test_clashing_or_bad_user_names_are_refused(
    services: list[str], gateway: str | None, message: str
) -> None:
    """A service or gateway name that clashes with a device or is not a valid name is refused."""
    with pytest.raises(CredentialsError, match=message):
        broker_users("sst", _devices("rutland", "a"), services, gateway)


def test_known_passwords_are_kept() -> None:
    """Reruns keep every password already handed out and draw new ones only for new users."""
    users = [BrokerUser("a", "device"), BrokerUser("b", "device")]
    passwords, fresh = assign_passwords(users, {"a": "kept", "gone": "x"})
    assert passwords["a"] == "kept" and len(passwords["b"]) >= 32 and fresh == 1
    line = render_password_file(users, passwords).splitlines()[0]
    assert verify_password("kept", line.split(":", 1)[1])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("user,password\na,b\n", "missing column"),
        ("username,password\na,\n", "empty"),
        ("username,password\na,b\na,c\n", "listed twice"),
    ],
)
def test_bad_passwords_file_is_refused(text: str, message: str) -> None:
    """A provisioning CSV without the columns, with empty values or duplicates is refused."""
    with pytest.raises(CredentialsError, match=message):
        parse_passwords_csv(text)


@pytest.fixture
def registered(conn: psycopg.Connection, council: str, uid: str) -> list[RegisteredDevice]:
    """Two bins and a counter registered to this test's council."""
    devices = _devices(council, uid)
    for d in devices:
        conn.execute(
            "INSERT INTO device (device_id, council, kind, lat, lon, zone, capacity_litres) "
            "VALUES (%s, %s, %s, 54.97, -1.61, %s, %s)",
            (d.device_id, council, d.kind, d.zone, 240 if d.kind == "bin" else None),
        )
    return devices


def _generate(tmp_path: Path, database_url: str, prefix: str) -> dict[str, str]:
    args = ["--out", str(tmp_path / "out"), "--prefix", prefix, "--database-url", database_url]
    result = runner.invoke(app, ["devices", "credentials", *args])
    assert result.exit_code == 0, result.output
    assert len(result.output.strip().splitlines()) == 1
    with (tmp_path / "out" / "passwords.csv").open(encoding="utf-8") as f:
        return {row["username"]: row["password"] for row in csv.DictReader(f)}


def test_command_writes_files_and_reruns_are_stable(
    tmp_path: Path, database_url: str, registered: list[RegisteredDevice], prefix: str
) -> None:
    """The command writes passwd, acl and a 0600 CSV; a rerun keeps every password."""
    first = _generate(tmp_path, database_url, prefix)
    out = tmp_path / "out"
    assert {d.device_id for d in registered} | {"ingest", "api", "app-gateway"} <= set(first)
    assert (out / "passwords.csv").stat().st_mode & 0o777 == 0o600
    assert (out / "passwd").stat().st_mode & 0o777 == 0o600
    assert f"topic write {prefix}/v1/" in (out / "acl").read_text(encoding="utf-8")
    assert _generate(tmp_path, database_url, prefix) == first


@pytest.mark.parametrize(
    "args",
    [
        ["--prefix", "bad prefix"],
        ["--passwords", "{tmp}/bad.csv"],
        ["--out", "{tmp}/bad.csv"],
        ["--service-user", "no spaces"],
    ],
)
def test_command_bad_arguments_fail_in_one_line(
    tmp_path: Path, database_url: str, args: list[str]
) -> None:
    """Bad arguments give one 'error:' line and a non-zero exit, no traceback."""
    (tmp_path / "bad.csv").write_text("user,secret\n", encoding="utf-8")
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    out = str(tmp_path / "out")
    result = runner.invoke(
        app, ["devices", "credentials", "--out", out, "--database-url", database_url, *args]
    )
    assert result.exit_code != 0
    assert result.output.startswith("error: ") and len(result.output.strip().splitlines()) == 1


def test_command_on_an_unmigrated_database_fails_in_one_line(
    tmp_path: Path, database_server_url: str, uid: str
) -> None:
    """A database without the registry gives one line that says to migrate, and writes nothing."""
    out = tmp_path / "out"
    with scratch_database(database_server_url, "sst_empty", migrated=False) as url:
        result = runner.invoke(
            app, ["devices", "credentials", "--out", str(out), "--database-url", url]
        )
    assert result.exit_code == 1
    assert result.output.startswith("error: ") and "db migrate" in result.output
    assert not out.exists()


# -- a real Mosquitto with the generated files -----------------------------------------------


def _wait_port(port: int, proc: subprocess.Popen[bytes], timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, "mosquitto exited at start-up"
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise AssertionError(f"mosquitto not listening on {port} after {timeout}s")


@pytest.fixture
def secured_broker(
    tmp_path: Path, database_url: str, registered: list[RegisteredDevice], prefix: str
) -> Iterator[tuple[int, dict[str, str]]]:
    """Mosquitto on a free port with the generated password and ACL files, no anonymous logins."""
    binary = shutil.which("mosquitto") or (
        "/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None
    )
    if binary is None:
        pytest.skip("needs the mosquitto binary to check the generated password and ACL files")
    passwords = _generate(tmp_path, database_url, prefix)
    out, port = tmp_path / "out", free_port()
    conf = tmp_path / "mosquitto.conf"
    conf.write_text(
        f"listener {port} 127.0.0.1\n"
        "allow_anonymous false\n"
        f"password_file {out / 'passwd'}\n"
        f"acl_file {out / 'acl'}\n"
        f"log_dest file {tmp_path / 'mosquitto.log'}\n"
        # Started as root, Mosquitto switches to user "mosquitto", who cannot read 0600 files.
        + ("user root\n" if os.geteuid() == 0 else ""),
        encoding="utf-8",
    )
    proc = subprocess.Popen([binary, "-c", str(conf)])
    try:
        _wait_port(port, proc)
        yield port, passwords
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def _url(port: int, user: str, password: str) -> str:
    return f"mqtt://{user}:{password}@127.0.0.1:{port}"


def test_mosquitto_enforces_generated_acl(
    secured_broker: tuple[int, dict[str, str]], registered: list[RegisteredDevice], prefix: str
) -> None:
    """A device's reading on its own topic reaches ingest's shared subscription; one published
    to another device's topic, another stream or by the gateway to a bin topic does not."""
    port, passwords = secured_broker
    got: list[str] = []
    lock = threading.Lock()

    def on_message(client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        with lock:
            got.append(msg.topic)

    subscribed = threading.Event()

    def configure(client: mqtt.Client) -> None:
        client.on_message = on_message
        client.on_subscribe = lambda *args: subscribed.set()
        client.on_connect = lambda c, *a: c.subscribe(f"$share/g/{prefix}/v1/+/+/+", qos=1)

    service = open_client(
        _url(port, "ingest", passwords["ingest"]), "ingest-1", prefix=prefix, configure=configure
    )
    assert subscribed.wait(10)
    bin1, bin2, counter = registered
    own = f"{prefix}/v1/{bin1.council}/bin-fill/{bin1.device_id}"
    device = open_client(
        _url(port, bin1.device_id, passwords[bin1.device_id]), bin1.device_id, prefix=prefix
    )
    gateway = open_client(_url(port, "app-gateway", passwords["app-gateway"]), "app-gateway")
    try:
        forbidden = [
            (device, f"{prefix}/v1/{bin2.council}/bin-fill/{bin2.device_id}"),
            (device, f"{prefix}/v1/{bin1.council}/footfall/{bin1.device_id}"),
            (gateway, f"{prefix}/v1/{bin1.council}/bin-fill/{bin1.device_id}"),
        ]
        for client, topic in forbidden:
            client.publish(topic, b"{}", qos=1).wait_for_publish(timeout=10)
        bump = f"{prefix}/v1/{counter.council}/bump/phone-7"
        gateway.publish(bump, b"{}", qos=1).wait_for_publish(timeout=10)
        # Each client's messages arrive in order, so once the allowed ones are in, a forbidden
        # one that got through would be in too.
        device.publish(own, b"{}", qos=1).wait_for_publish(timeout=10)
        wait_for(lambda: own in got and bump in got, what="the allowed readings")
        assert sorted(got) == sorted([own, bump])
    finally:
        close_client(device, prefix)
        close_client(gateway)
        close_client(service, prefix)


@pytest.mark.parametrize("who", ["wrong password", "unknown user", "anonymous"])
def test_mosquitto_refuses_bad_logins(
    secured_broker: tuple[int, dict[str, str]], registered: list[RegisteredDevice], who: str
) -> None:
    """A wrong password, an unregistered device and an anonymous client are all refused."""
    port, passwords = secured_broker
    device = registered[0].device_id
    url = {
        "wrong password": _url(port, device, passwords[device] + "x"),
        "unknown user": _url(port, "not-registered", passwords[device]),
        "anonymous": f"mqtt://127.0.0.1:{port}",
    }[who]
    with pytest.raises(TransientError, match="refused"):
        open_client(url, f"probe-{device}", timeout=5)
