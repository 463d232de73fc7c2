"""Device models: how a registered LoRaWAN device's uplinks become readings of the contract.

One module per model, each decoding its maker's documented payload; ``json`` maps what the
network server decoded itself. :func:`readings` is the one entry point; it never raises for a
bad uplink but returns the reason, which ingest quarantines with the raw envelope.
"""

from collections.abc import Mapping
from typing import Any, Protocol

from pydantic import ValidationError

from ingest.codecs import em310_udl, em500_udl, json_mapping, vs350
from ingest.codecs.base import Device, Model, Reading, Undecodable, fill_pct
from ingest.contract.decode import describe_validation_error
from ingest.contract.lorawan import Uplink

MODELS: dict[str, Model] = {
    m.name: m for m in (em310_udl.MODEL, em500_udl.MODEL, vs350.MODEL, json_mapping.MODEL)
}
"""Every model a registry row may name, by name."""


class DeviceWithModel(Device, Protocol):
    """A registered device as :func:`readings` needs it."""

    @property
    def model(self) -> str | None: ...


def readings(uplink: Uplink, device: DeviceWithModel) -> list[Reading] | str:
    """The readings in ``uplink`` from ``device``, or why there are none to be had."""
    if device.model is None:
        return "device has no model"
    model = MODELS.get(device.model)
    if model is None:
        return f"unknown model: {device.model}"
    try:
        return model.decode(uplink, device)
    except Undecodable as exc:
        return str(exc)
    except ValidationError as exc:
        return f"mapping failed: {describe_validation_error(exc)}"


def check_model(
    model: str, config: Mapping[str, Any], depth_mm: int | None, kind: str
) -> str | None:
    """Why a registry row's model and its settings do not fit together, or ``None``."""
    found = MODELS.get(model)
    if found is None:
        return f"unknown model {model!r} (expected one of {', '.join(sorted(MODELS))})"
    if found.kind is not None and found.kind != kind:
        return f"model {model} is a {found.kind}, not a {kind}"
    return found.check(config, depth_mm, kind)


__all__ = ["MODELS", "Device", "Model", "Reading", "check_model", "fill_pct", "readings"]
