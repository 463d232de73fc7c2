"""MQTT connections shared by ingest, simulators and the health check.

Every long-lived client gets a retained last will on its status topic and announces ``online``.
MQTT 5 is tried first; brokers that only speak 3.1.1 (amqtt, the embedded broker) get 3.1.1.
"""

import logging
import ssl
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from ingest.contract.topics import status_topic
from ingest.errors import TransientError

log = logging.getLogger(__name__)

ClientHook = Callable[[mqtt.Client], None]

SESSION_EXPIRY_S = 7 * 24 * 3600
"""How long the broker keeps a persistent session (and its queued messages) for a worker."""


@dataclass(frozen=True, slots=True)
class BrokerAddress:
    """Where a broker is and how to log in."""

    host: str
    port: int
    tls: bool
    username: str | None
    password: str | None

    @classmethod
    def parse(cls, url: str) -> "BrokerAddress":
        parts = urlsplit(url)
        if parts.scheme not in ("mqtt", "mqtts", "tcp"):
            raise ValueError(f"Expected an mqtt:// or mqtts:// URL, got {parts.scheme!r}.")
        tls = parts.scheme == "mqtts"
        return cls(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or (8883 if tls else 1883),
            tls=tls,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
        )


def _new_client(
    address: BrokerAddress,
    client_id: str,
    protocol: MQTTProtocolVersion,
    prefix: str | None,
    clean: bool,
) -> mqtt.Client:
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2,
        client_id=client_id,
        protocol=protocol,
        clean_session=None if protocol == MQTTProtocolVersion.MQTTv5 else clean,
    )
    if address.username:
        client.username_pw_set(address.username, address.password)
    if address.tls:
        client.tls_set(cert_reqs=ssl.CERT_REQUIRED)
    if prefix is not None:
        client.will_set(status_topic(prefix, client_id), b"offline", qos=1, retain=True)
    # A broker back from a restart should find its subscribers within a couple of seconds:
    # Mosquitto 2.0 does not restore shared subscriptions from its persistence file, so what
    # devices publish to a shared group before its workers re-subscribe is dropped (the soak,
    # bench/soak.py, lost up to 31 s of traffic per broker restart with a 30 s ceiling here).
    client.reconnect_delay_set(min_delay=1, max_delay=RECONNECT_MAX_S)
    return client


RECONNECT_MAX_S = 2
"""Longest wait between two attempts to reach a broker that is down."""


def connect_properties(
    protocol: MQTTProtocolVersion, clean: bool, receive_maximum: int | None = None
) -> Properties | None:
    """CONNECT properties: a long session expiry for persistent MQTT 5 sessions, and how many
    unacknowledged messages the broker may send at once (Receive Maximum)."""
    if protocol != MQTTProtocolVersion.MQTTv5 or (clean and receive_maximum is None):
        return None
    props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
    if not clean:
        props.SessionExpiryInterval = SESSION_EXPIRY_S
    if receive_maximum is not None:
        props.ReceiveMaximum = receive_maximum
    return props


def open_client(
    url: str,
    client_id: str,
    *,
    prefix: str | None = None,
    clean: bool = True,
    timeout: float = 10,
    receive_maximum: int | None = None,
    configure: ClientHook | None = None,
) -> mqtt.Client:
    """Connect a client, falling back from MQTT 5 to 3.1.1, with its network loop running.

    ``configure`` is called on the client before it connects (to set callbacks, manual acks).
    Raises :class:`TransientError` when the broker cannot be reached or refuses the client.
    """
    address = BrokerAddress.parse(url)
    where = f"{address.host}:{address.port}"
    protocol = negotiate_protocol(address, timeout)
    client = _new_client(address, client_id, protocol, prefix, clean)
    if configure is not None:
        configure(client)
    handshake = _Handshake(client.on_connect, client.on_disconnect)
    client.on_connect = handshake.on_connect
    client.on_disconnect = handshake.on_disconnect
    _connect(client, address, protocol, clean, receive_maximum)
    client.loop_start()
    if not handshake.done.wait(timeout):
        client.disconnect()
        client.loop_stop()
        raise TransientError(f"MQTT broker at {where} did not answer within {timeout}s")
    if handshake.outcome != "Success":
        client.disconnect()
        client.loop_stop()
        raise TransientError(f"MQTT broker at {where} refused the connection: {handshake.outcome}")
    if prefix is not None:
        client.publish(status_topic(prefix, client_id), b"online", qos=1, retain=True)
    version = "5" if protocol == MQTTProtocolVersion.MQTTv5 else "3.1.1"
    # Long-lived clients (those with a status topic) are worth a line at INFO; probes are not.
    log.log(
        logging.INFO if prefix else logging.DEBUG,
        "connected to MQTT broker %s as %s (MQTT %s)",
        where,
        client_id,
        version,
    )
    return client


def _connect(
    client: mqtt.Client,
    address: BrokerAddress,
    protocol: MQTTProtocolVersion,
    clean: bool,
    receive_maximum: int | None = None,
) -> None:
    extra: dict[str, object] = {}
    if protocol == MQTTProtocolVersion.MQTTv5:
        extra = {
            "clean_start": clean,
            "properties": connect_properties(protocol, clean, receive_maximum),
        }
    try:
        client.connect(address.host, address.port, keepalive=30, **extra)  # type: ignore[arg-type]
    except OSError as exc:
        raise TransientError(
            f"cannot reach MQTT broker at {address.host}:{address.port}: {exc}"
        ) from exc


_protocols: dict[tuple[str, int], MQTTProtocolVersion] = {}


def negotiate_protocol(address: BrokerAddress, timeout: float = 10) -> MQTTProtocolVersion:
    """MQTT 5 if the broker speaks it, else 3.1.1 (remembered per broker for this process).

    Asked with a bare CONNECT: amqtt drops a v5 CONNECT that carries a will or a user name
    without any CONNACK, but answers a bare one with "unsupported protocol version".
    """
    key = (address.host, address.port)
    known = _protocols.get(key)
    if known is not None:
        return known
    # No credentials: any CONNACK in MQTT 5 form (even "not authorised") proves MQTT 5.
    anonymous = BrokerAddress(address.host, address.port, address.tls, None, None)
    client = _new_client(
        anonymous,
        f"smartstreets-probe-{uuid.uuid4().hex[:12]}",
        MQTTProtocolVersion.MQTTv5,
        None,
        True,
    )
    handshake = _Handshake(None, None, quiet=True)
    client.on_connect = handshake.on_connect
    client.on_disconnect = handshake.on_disconnect
    _connect(client, address, MQTTProtocolVersion.MQTTv5, True)
    client.loop_start()
    answered = handshake.done.wait(timeout)
    client.disconnect()
    client.loop_stop()
    where = f"{address.host}:{address.port}"
    if not answered:
        raise TransientError(f"MQTT broker at {where} did not answer within {timeout}s")
    if "protocol" in handshake.outcome.lower() or not handshake.connack_seen:
        protocol = MQTTProtocolVersion.MQTTv311
    else:
        protocol = MQTTProtocolVersion.MQTTv5
    _protocols[key] = protocol
    return protocol


class _Handshake:
    """Waits for the first CONNACK (or a dropped connection), then hands over to the user's
    callbacks."""

    def __init__(
        self, user_connect: object, user_disconnect: object, *, quiet: bool = False
    ) -> None:
        self.quiet = quiet
        self.done = threading.Event()
        self.outcome = ""
        self.connack_seen = False
        self._user_connect = user_connect
        self._user_disconnect = user_disconnect

    def on_connect(
        self, client: mqtt.Client, userdata: object, flags: object, rc: object, props: object
    ) -> None:
        # The user's callback first, so that what it sends (SUBSCRIBE) goes out before
        # anything the waiting thread sends once the handshake is done.
        if callable(self._user_connect):
            self._user_connect(client, userdata, flags, rc, props)
        if not self.done.is_set():
            self.connack_seen = True
            self.outcome = str(rc)
            self.done.set()

    def on_disconnect(
        self, client: mqtt.Client, userdata: object, flags: object, rc: object, props: object
    ) -> None:
        if not self.done.is_set():
            self.outcome = f"connection closed before CONNACK ({rc})"
            self.done.set()
        elif getattr(rc, "is_failure", False) and not self.quiet:
            log.warning("MQTT connection lost (%s); reconnecting", rc)
        if callable(self._user_disconnect):
            self._user_disconnect(client, userdata, flags, rc, props)


class Publisher:
    """QoS 1 publishing that knows what the broker has acknowledged.

    Holds at most ``max_pending`` unacknowledged messages (paho's message ids are 16-bit, so a
    publisher must never have more than ~65k in flight) by waiting on the oldest, and
    :meth:`flush` waits until the broker has acknowledged everything.
    """

    def __init__(self, client: mqtt.Client, max_pending: int = 10_000) -> None:
        if not 1 <= max_pending <= 60_000:
            raise ValueError("Expected max_pending in [1, 60000].")
        self.client = client
        self.max_pending = max_pending
        self._pending: deque[mqtt.MQTTMessageInfo] = deque()
        self.published = 0

    def publish(self, topic: str, payload: bytes, *, timeout: float = 30) -> None:
        """Queue one message; blocks while too many are unacknowledged."""
        while self._pending and self._pending[0].is_published():
            self._pending.popleft()
        while len(self._pending) >= self.max_pending:
            oldest = self._pending.popleft()
            oldest.wait_for_publish(timeout)
            if not oldest.is_published():
                raise TransientError(f"broker did not acknowledge a message within {timeout}s")
        self._pending.append(self.client.publish(topic, payload, qos=1))
        self.published += 1

    def flush(self, timeout: float = 30) -> bool:
        """Wait until every message is acknowledged; ``False`` if some were not in time."""
        deadline = time.monotonic() + timeout
        while self._pending:
            info = self._pending[0]
            info.wait_for_publish(max(0.0, deadline - time.monotonic()))
            if not info.is_published():
                return False
            self._pending.popleft()
        return True


def wait_online(url: str, prefix: str, client_id: str, timeout: float = 30) -> None:
    """Wait until a long-lived client has announced ``online`` on its retained status topic.

    Clients subscribe before they announce, so after this an ingest worker's session is
    ready for messages. Raises :class:`TransientError` on timeout.
    """
    seen = threading.Event()
    topic = status_topic(prefix, client_id)

    def configure(client: mqtt.Client) -> None:
        client.on_connect = lambda c, *a: c.subscribe(topic, qos=1)
        client.on_message = lambda c, u, m: seen.set() if m.payload == b"online" else None

    watcher = open_client(url, f"smartstreets-watch-{uuid.uuid4().hex[:12]}", configure=configure)
    try:
        if not seen.wait(timeout):
            raise TransientError(f"{client_id} did not come online within {timeout}s")
    finally:
        watcher.disconnect()
        watcher.loop_stop()


def close_client(client: mqtt.Client, prefix: str | None = None) -> None:
    """Announce ``offline`` (when a status topic is in use) and disconnect cleanly."""
    if prefix is not None and client.is_connected():
        cid = client._client_id.decode()
        info = client.publish(status_topic(prefix, cid), b"offline", qos=1, retain=True)
        info.wait_for_publish(timeout=2)
    client.disconnect()
    client.loop_stop()


def probe_broker(url: str, timeout: float = 3) -> tuple[bool, str]:
    """Whether a broker accepts a connection right now, with a short explanation."""
    try:
        client = open_client(url, f"smartstreets-probe-{uuid.uuid4().hex[:12]}", timeout=timeout)
    except (TransientError, ValueError) as exc:
        return False, str(exc)
    client.disconnect()
    client.loop_stop()
    return True, "ok"
