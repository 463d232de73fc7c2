"""Production files: compose, Kubernetes, Mosquitto and Grafana configuration, the entry point."""

import json
import os
import re
import shlex
import shutil
import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from importlib.resources import files
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
import typer
import yaml
from paho.mqtt.enums import CallbackAPIVersion
from psycopg.conninfo import conninfo_to_dict

from analytics.alerts.settings import AlertSettings
from analytics.routing.settings import RoutingSettings
from api.settings import ApiSettings
from deploy.cli import app
from deploy.embedded import free_port
from ingest.credentials import broker_users, render_acl, render_password_file
from ingest.db.registry import RegisteredDevice
from ingest.mqtt import BrokerAddress
from ingest.settings import IngestSettings, ServiceSettings
from tests.conftest import REPO
from tests.helpers import wait_for

DEPLOY = REPO / "deploy"
COMPOSE = DEPLOY / "compose.yaml"
K8S = DEPLOY / "k8s"
MOSQUITTO_CONF = DEPLOY / "mosquitto" / "mosquitto.conf"
DATASOURCE = DEPLOY / "grafana" / "provisioning" / "datasources" / "smartstreets.yaml"
ENTRYPOINT = DEPLOY / "docker-entrypoint.sh"
APP_SERVICES = {"migrate", "api", "ingest", "scheduler"}
SETTINGS = (ServiceSettings, ApiSettings, IngestSettings, RoutingSettings, AlertSettings)


def _compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    return data


def _manifests() -> list[tuple[Path, dict[str, Any]]]:
    return [
        (path, doc)
        for path in sorted(K8S.glob("*.yaml"))
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8"))
        if doc is not None
    ]


def _known_variables() -> set[str]:
    """Every SMARTSTREETS_* variable a settings class reads."""
    return {
        f"{cls.model_config.get('env_prefix', '')}{name}".upper()
        for cls in SETTINGS
        for name in cls.model_fields
    }


def _smartstreets_commands(command: list[str] | str, env: dict[str, str]) -> list[list[str]]:
    """The ``smartstreets …`` command lines in a container command, shell scripts included."""
    if isinstance(command, list) and command[:1] == ["smartstreets"]:
        return [command]
    script = command[-1] if isinstance(command, list) else command
    script = script.replace("\\\n", " ").replace("$$", "$")
    for name, value in env.items():
        script = script.replace(f"${{{name}}}", value).replace(f"${name}", value)
    script = re.sub(r"\$\{?council\}?", "rutland", script)
    found = []
    for line in script.splitlines():
        if "smartstreets " in line:
            found.append(shlex.split(line[line.index("smartstreets ") :].split("||")[0]))
    return found


def _split_at_subcommand(group: Any, args: list[str]) -> int:
    """Index of the subcommand's name in ``args``, skipping the group's options and their values."""
    takes_value = {
        opt
        for param in group.params
        if not getattr(param, "is_flag", True)
        for opt in getattr(param, "opts", [])
    }
    i = 0
    while args[i].startswith("-"):
        i += 1 if "=" in args[i] or args[i] not in takes_value else 2
    return i


def _check_cli(argv: list[str]) -> None:
    """Parse ``argv`` with the real command line: commands exist, options and values are valid."""
    command: Any = typer.main.get_command(app)
    args, parent = argv[1:], None
    while hasattr(command, "commands"):
        i = _split_at_subcommand(command, args)
        parent = command.make_context(command.name or "", args[:i], parent, resilient_parsing=True)
        sub = command.get_command(parent, args[i])  # subcommands load when named
        assert sub is not None, f"no command {args[i]!r} in {argv}"
        command, args = sub, args[i + 1 :]
    try:
        command.make_context(command.name or "", list(args), parent)
    except Exception as exc:  # click's usage errors, whichever click typer carries
        raise AssertionError(f"{shlex.join(argv)}: {exc}") from exc


@pytest.mark.parametrize(
    "argv",
    [
        ["smartstreets", "db", "migrat"],
        ["smartstreets", "api", "--bogus"],
        ["smartstreets", "--log-format", "json", "ingest", "--workers", "0"],
        ["smartstreets", "forecast", "refresh"],
    ],
)
def test_command_check_catches_mistakes(argv: list[str]) -> None:
    """The command check used below refuses unknown commands, options, bad values, missing ones."""
    with pytest.raises(AssertionError):
        _check_cli(argv)


# -- compose ----------------------------------------------------------------------------------


def test_compose_matches_compose_spec() -> None:
    """compose.yaml is valid against the Compose Specification's JSON schema."""
    jsonschema = pytest.importorskip("jsonschema")
    pytest.importorskip("check_jsonschema", reason="vendors the compose-spec JSON schema")
    vendored = files("check_jsonschema.builtin_schemas.vendor").joinpath("compose-spec.json")
    schema = json.loads(vendored.read_text(encoding="utf-8"))
    validator = jsonschema.validators.validator_for(schema)(schema)
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(_compose())]
    assert errors == []
    broken = _compose()
    broken["services"]["api"]["helthcheck"] = {}
    assert list(validator.iter_errors(broken)), "the schema should refuse an unknown key"


def test_compose_services_and_their_wiring() -> None:
    """Every service is there; app services share the one image, wait for the migration, and only
    the TLS listener, the API and Grafana are published."""
    data = _compose()
    services = data["services"]
    assert set(services) == APP_SERVICES | {"timescaledb", "mosquitto", "grafana"}
    assert "timescaledb" in services["timescaledb"]["image"]
    assert services["timescaledb"]["image"].endswith("-pg16")
    for name in APP_SERVICES:
        service = services[name]
        assert service["build"] == {"context": "..", "dockerfile": "deploy/Dockerfile"}
        assert service["image"] == services["api"]["image"]
        for dependency, condition in service["depends_on"].items():
            assert dependency in services
            assert condition["condition"] in {
                "service_started",
                "service_healthy",
                "service_completed_successfully",
            }
        if name != "migrate":
            assert service["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert services["migrate"]["restart"] == "no"
    published = {
        name: [str(p).rsplit(":", 1)[-1] for p in service.get("ports", [])]
        for name, service in services.items()
    }
    assert published == {
        "timescaledb": [],
        "mosquitto": ["8883"],
        "migrate": [],
        "api": ["8000"],
        "ingest": [],
        "scheduler": [],
        "grafana": ["3000"],
    }
    assert data["networks"]["backend"]["internal"] is True
    for name in ("api", "ingest", "timescaledb", "mosquitto", "grafana"):
        assert "test" in services[name]["healthcheck"], name


def test_compose_secrets_and_settings_are_real() -> None:
    """Secrets used are declared (with files under deploy/secrets), *_FILE paths point at mounted
    secrets, and every SMARTSTREETS_* variable is one a settings class reads."""
    data = _compose()
    declared = data["secrets"]
    known = _known_variables()
    for name, service in data["services"].items():
        mounted = set(service.get("secrets", []))
        assert mounted <= set(declared), name
        for key, value in (service.get("environment") or {}).items():
            if key.startswith("SMARTSTREETS_"):
                assert key in known, f"{name}: {key} is not a setting"
            if key.endswith("_FILE") and str(value).startswith("/run/secrets/"):
                assert str(value).removeprefix("/run/secrets/") in mounted, f"{name}: {key}"
    for secret in declared.values():
        assert secret["file"].startswith("./secrets/")
    for config in data["configs"].values():
        assert (DEPLOY / config["file"]).exists() or config["file"].startswith("./secrets/")
    assert {"mqtt_ingest_password", "db_password"} <= set(data["services"]["ingest"]["secrets"])
    assert "mqtt_api_password" in data["services"]["api"]["secrets"]


@pytest.mark.parametrize("service", sorted(APP_SERVICES))
def test_compose_commands_are_real_commands(service: str) -> None:
    """Each app service runs smartstreets commands that exist, with options that parse."""
    definition = _compose()["services"][service]
    env = {k: str(v).split(":-")[-1].rstrip("}") for k, v in definition["environment"].items()}
    commands = _smartstreets_commands(definition["command"], env)
    assert commands, definition["command"]
    for argv in commands:
        _check_cli(argv)


def test_compose_ingest_scales_on_a_shared_subscription() -> None:
    """Ingest runs several workers in one share group, with a stable client id and metrics."""
    ingest = _compose()["services"]["ingest"]
    env = {k: str(v).split(":-")[-1].rstrip("}") for k, v in ingest["environment"].items()}
    (argv,) = _smartstreets_commands(ingest["command"], env)
    assert argv[argv.index("--share-group") + 1] == "smartstreets"
    assert int(argv[argv.index("--workers") + 1]) >= 2
    assert "--no-migrate" in argv
    port = argv[argv.index("--metrics-port") + 1]
    assert f"127.0.0.1:{port}/metrics" in " ".join(ingest["healthcheck"]["test"])
    assert env["SMARTSTREETS_INGEST_CLIENT_ID"] == "smartstreets-ingest"


@pytest.mark.skipif(
    subprocess.run(["docker", "compose", "version"], capture_output=True).returncode != 0
    if shutil.which("docker")
    else True,
    reason="needs 'docker compose' to run 'docker compose config'",
)
def test_docker_compose_config_accepts_the_file(tmp_path: Path) -> None:
    """'docker compose config' accepts the file (with stand-in secret files)."""
    deploy = tmp_path / "deploy"
    shutil.copytree(DEPLOY, deploy, ignore=shutil.ignore_patterns("secrets", "__pycache__"))
    for secret in _compose()["secrets"].values():
        path = deploy / secret["file"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("stand-in\n", encoding="utf-8")
    (deploy / "secrets" / "mosquitto" / "acl").write_text("user ingest\n", encoding="utf-8")
    result = subprocess.run(
        ["docker", "compose", "-f", str(deploy / "compose.yaml"), "config", "--quiet"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr


def test_dockerfile_builds_one_image_with_the_entry_point() -> None:
    """The image is python:3.11-slim, installs the project and runs commands via the entry point."""
    text = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"^FROM python:3\.11-slim$", text, re.M)
    assert "pip install ." in text and "docker-entrypoint.sh" in text
    assert re.search(r"^USER \d+", text, re.M)
    ignored = (REPO / ".dockerignore").read_text(encoding="utf-8").split()
    assert {".venv", ".git", "deploy/secrets"} <= set(ignored)


@pytest.mark.parametrize("password", ["plain", "p@ss:w/rd%&?#"])
def test_entry_point_puts_secret_files_into_urls(tmp_path: Path, password: str) -> None:
    """Passwords from DATABASE_PASSWORD_FILE and MQTT_PASSWORD_FILE reach the URLs intact."""
    (tmp_path / "db").write_text(password + "\n", encoding="utf-8")
    (tmp_path / "mqtt").write_text(password, encoding="utf-8")
    python_dir = str(Path(shutil.which("python3") or "/usr/bin/python3").parent)
    env = {
        "PATH": f"{python_dir}:/usr/bin:/bin",
        "SMARTSTREETS_DATABASE_URL": "postgresql://smartstreets@db:5432/smartstreets",
        "DATABASE_PASSWORD_FILE": str(tmp_path / "db"),
        "SMARTSTREETS_MQTT_URL": "mqtt://ingest@mosquitto:1883",
        "MQTT_PASSWORD_FILE": str(tmp_path / "mqtt"),
    }
    result = subprocess.run(
        ["sh", str(ENTRYPOINT), "env"], env=env, capture_output=True, text=True, check=True
    )
    out = dict(line.split("=", 1) for line in result.stdout.splitlines() if "=" in line)
    db = conninfo_to_dict(out["SMARTSTREETS_DATABASE_URL"])
    assert (db["user"], db["password"], db["host"], db["dbname"]) == (
        "smartstreets",
        password,
        "db",
        "smartstreets",
    )
    broker = BrokerAddress.parse(out["SMARTSTREETS_MQTT_URL"])
    assert (broker.username, broker.password, broker.host, broker.port) == (
        "ingest",
        password,
        "mosquitto",
        1883,
    )


# -- Kubernetes -------------------------------------------------------------------------------


def test_every_manifest_parses_and_is_named() -> None:
    """Every document has apiVersion, kind and metadata.name; namespaced ones are in ours."""
    manifests = _manifests()
    assert len(manifests) >= 15
    for path, doc in manifests:
        assert doc.get("apiVersion") and doc.get("kind"), path
        assert doc["metadata"]["name"], path
        if doc["kind"] not in {"Namespace", "Kustomization"}:
            assert doc["metadata"]["namespace"] == "smartstreets", (path, doc["kind"])


def test_kustomization_lists_every_manifest_but_the_example_secret() -> None:
    """kubectl apply -k applies every file except secret.example.yaml."""
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text(encoding="utf-8"))
    listed = set(kustomization["resources"])
    on_disk = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    assert listed == on_disk - {"secret.example.yaml"}


def _workloads() -> dict[str, dict[str, Any]]:
    """Pod templates by workload name (Deployments, StatefulSets, Jobs, CronJobs)."""
    pods: dict[str, dict[str, Any]] = {}
    for _path, doc in _manifests():
        spec = doc.get("spec", {})
        if doc["kind"] in {"Deployment", "StatefulSet", "Job"}:
            pods[doc["metadata"]["name"]] = spec["template"]["spec"]
        elif doc["kind"] == "CronJob":
            pods[doc["metadata"]["name"]] = spec["jobTemplate"]["spec"]["template"]["spec"]
    return pods


def _port(container: dict[str, Any], port: int | str) -> int:
    if isinstance(port, int):
        return port
    (number,) = [p["containerPort"] for p in container["ports"] if p["name"] == port]
    return int(number)


def test_api_probes_use_health_on_the_api_port() -> None:
    """The API's readiness and liveness probes ask /health on the port the API listens on."""
    (container,) = _workloads()["smartstreets-api"]["containers"]
    config = next(d for _, d in _manifests() if d["metadata"]["name"] == "smartstreets-config")
    for probe in ("readinessProbe", "livenessProbe"):
        get = container[probe]["httpGet"]
        assert get["path"] == "/health"
        assert _port(container, get["port"]) == int(config["data"]["SMARTSTREETS_API_PORT"])
    assert config["data"]["SMARTSTREETS_API_HOST"] == "0.0.0.0"


def test_ingest_probes_use_its_metrics_port() -> None:
    """Ingest's probes ask /metrics on the port given to --metrics-port; its client id is the pod's
    stable name (a StatefulSet), so a restarted worker resumes its MQTT session."""
    workload = next(d for _, d in _manifests() if d["metadata"]["name"] == "smartstreets-ingest")
    assert workload["kind"] == "StatefulSet"
    (container,) = workload["spec"]["template"]["spec"]["containers"]
    args = container["args"]
    metrics_port = int(args[args.index("--metrics-port") + 1])
    for probe in ("readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"]["path"] == "/metrics"
        assert _port(container, container[probe]["httpGet"]["port"]) == metrics_port
    assert "--share-group" in args
    client_id = next(e for e in container["env"] if e["name"] == "SMARTSTREETS_INGEST_CLIENT_ID")
    assert client_id["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"


def test_k8s_commands_settings_and_secret_paths_are_real() -> None:
    """Every smartstreets container runs real commands, sets only real SMARTSTREETS_* settings and
    reads its password files from a mounted Secret."""
    known = _known_variables()
    config = next(d for _, d in _manifests() if d["metadata"]["name"] == "smartstreets-config")
    env = {k: str(v) for k, v in config["data"].items()}
    assert {k for k in env if k.startswith("SMARTSTREETS_")} <= known
    checked = 0
    for name, pod in _workloads().items():
        for container in pod["containers"]:
            if not container["image"].startswith("smartstreets:"):
                continue
            checked += 1
            own = {e["name"]: e.get("value", "") for e in container.get("env", [])}
            assert {k for k in own if k.startswith("SMARTSTREETS_")} <= known, name
            for argv in _smartstreets_commands(container["args"], env):
                _check_cli(argv)
            mounts = {m["mountPath"] for m in container.get("volumeMounts", [])}
            for key, path in {**env, **own}.items():
                if key.endswith("_PASSWORD_FILE"):
                    assert os.path.dirname(path) in mounts, (name, key)
            assert pod["securityContext"]["runAsNonRoot"] is True
    assert checked == 6  # migrate, api, ingest and three scheduled jobs


def test_k8s_copies_of_config_files_are_identical() -> None:
    """The ConfigMaps carry the very mosquitto.conf and Grafana data source that compose uses."""
    docs = {d["metadata"]["name"]: d for _, d in _manifests()}
    assert docs["mosquitto-config"]["data"]["mosquitto.conf"] == MOSQUITTO_CONF.read_text(
        encoding="utf-8"
    )
    assert docs["grafana-datasources"]["data"]["smartstreets.yaml"] == DATASOURCE.read_text(
        encoding="utf-8"
    )


def test_grafana_datasource_is_the_one_dashboards_query() -> None:
    """The provisioned data source has the uid, name and type the dashboards refer to."""
    model = pytest.importorskip("dashboards.model")
    (source,) = yaml.safe_load(DATASOURCE.read_text(encoding="utf-8"))["datasources"]
    assert source["uid"] == model.DATASOURCE_UID
    assert source["name"] == model.DATASOURCE_NAME
    assert source["type"] == model.DATASOURCE_TYPE
    assert source["jsonData"]["timescaledb"] is True


# -- the shipped mosquitto.conf on a real Mosquitto ---------------------------------------------


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def _certificates(where: Path) -> None:
    """A throwaway CA and a server certificate for 127.0.0.1, as the compose secrets name them."""
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out",
             "mqtt_ca", "-days", "1", "-subj", "/CN=smartstreets test CA", cwd=where)  # fmt: skip
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "mqtt_server_key", "-out",
             "server.csr", "-subj", "/CN=localhost", cwd=where)  # fmt: skip
    (where / "san.ext").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    _openssl("x509", "-req", "-in", "server.csr", "-CA", "mqtt_ca", "-CAkey", "ca.key",
             "-CAcreateserial", "-out", "mqtt_server_cert", "-days", "1", "-extfile", "san.ext",
             cwd=where)  # fmt: skip


@pytest.fixture
def shipped_broker(tmp_path: Path) -> Iterator[tuple[int, int, Path, dict[str, str]]]:
    """Mosquitto running deploy/mosquitto/mosquitto.conf, with only its paths and ports moved."""
    binary = shutil.which("mosquitto") or (
        "/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None
    )
    if binary is None:
        pytest.skip("needs the mosquitto binary to run the shipped configuration")
    if shutil.which("openssl") is None:
        pytest.skip("needs openssl to make a certificate for the TLS listener")
    secrets, config, data = (tmp_path / d for d in ("secrets", "config", "data"))
    for d in (secrets, config, data):
        d.mkdir()
    _certificates(secrets)
    prefix = "sst-deploy"
    users = broker_users(prefix, [RegisteredDevice("bin-1", "rutland", "bin", None)], ["ingest"])
    passwords = {u.username: f"pw-{u.username}" for u in users}
    (secrets / "mosquitto_passwd").write_text(render_password_file(users, passwords))
    (config / "acl").write_text(render_acl(prefix, users))
    plain, tls = free_port(), free_port()
    text = MOSQUITTO_CONF.read_text(encoding="utf-8")
    for old, new in [
        ("/run/secrets/", f"{secrets}/"),
        ("/mosquitto/config/", f"{config}/"),
        ("/mosquitto/data/", f"{data}/"),
        ("listener 1883\n", f"listener {plain} 127.0.0.1\n"),
        ("listener 8883\n", f"listener {tls} 127.0.0.1\n"),
    ]:
        assert old in text
        text = text.replace(old, new)
    # Started as root, Mosquitto switches to user "mosquitto", who cannot read the temp files.
    text = ("user root\n" if os.geteuid() == 0 else "") + text
    (config / "mosquitto.conf").write_text(text)
    proc = subprocess.Popen(
        [binary, "-c", str(config / "mosquitto.conf")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(
            lambda: proc.poll() is not None or (_listening(plain) and _listening(tls)),
            what="mosquitto's listeners",
        )
        assert proc.poll() is None, "mosquitto refused the shipped configuration"
        yield plain, tls, secrets / "mqtt_ca", passwords
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def _listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def _connect(port: int, user: str, password: str, ca: Path | None) -> tuple[mqtt.Client, str]:
    """Connect with MQTT 5 (over TLS when ``ca`` is given); return the client and the outcome."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=user, protocol=mqtt.MQTTv5)
    client.username_pw_set(user, password)
    if ca is not None:
        client.tls_set(ca_certs=str(ca), cert_reqs=ssl.CERT_REQUIRED)
    outcome: list[str] = []
    done = threading.Event()

    def on_connect(c: mqtt.Client, u: object, f: object, rc: object, p: object) -> None:
        outcome.append(str(rc))
        done.set()

    client.on_connect = on_connect
    client.on_disconnect = lambda *a: done.set()
    client.connect("127.0.0.1", port)
    client.loop_start()
    assert done.wait(10), "no answer from mosquitto"
    return client, (outcome or ["disconnected"])[0]


def test_shipped_mosquitto_conf_serves_devices_over_tls(
    shipped_broker: tuple[int, int, Path, dict[str, str]],
) -> None:
    """With the shipped mosquitto.conf a device publishes over verified TLS and ingest, on the
    plain listener, receives it; a wrong password is refused on either listener."""
    plain, tls, ca, passwords = shipped_broker
    got: list[bytes] = []
    ingest, outcome = _connect(plain, "ingest", passwords["ingest"], None)
    assert outcome == "Success"
    subscribed = threading.Event()
    ingest.on_subscribe = lambda *a: subscribed.set()
    ingest.on_message = lambda c, u, m: got.append(bytes(m.payload))
    ingest.subscribe("$share/smartstreets/sst-deploy/v1/+/+/+", qos=1)
    assert subscribed.wait(10)
    device, outcome = _connect(tls, "bin-1", passwords["bin-1"], ca)
    try:
        assert outcome == "Success"
        topic = "sst-deploy/v1/rutland/bin-fill/bin-1"
        device.publish(topic, b"reading", qos=1).wait_for_publish(timeout=10)
        wait_for(lambda: got == [b"reading"], what="the reading at ingest")
        for port, ca_file in ((tls, ca), (plain, None)):
            bad, outcome = _connect(port, "bin-1", "wrong", ca_file)
            bad.loop_stop()
            assert outcome != "Success"
    finally:
        for client in (device, ingest):
            client.disconnect()
            client.loop_stop()
