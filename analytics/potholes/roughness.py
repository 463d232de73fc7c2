"""A road roughness index from a phone's accelerometer: estimated IRI (m/km) per ~100 m driven.

The International Roughness Index (IRI) is defined on a measured road profile (the golden
quarter-car at 80 km/h, Sayers, Gillespie and Queiroz, World Bank Technical Paper 45, 1986). A
phone measures no profile, only how the car body shakes, so apps such as the World Bank's
RoadLab Pro regress IRI on the spread of the vertical acceleration and on the speed, and report
it per 100 m driven. This module does the same, in four steps:

1. The vertical dynamic acceleration of every sample, whatever the phone's orientation, by the
   pothole detector's own method (:func:`analytics.potholes.detector.vertical_dynamic`).
2. Samples slower than ``min_speed_mps`` (4 m/s, about 14 km/h) are left out: at walking pace
   the phone is handled and the car barely shakes, so the estimate means nothing.
3. The rest are cut into consecutive stretches of ``stretch_m`` (100 m) by distance, the
   integral of the GPS speed over time (a stop does not end a stretch, it just adds nothing).
   A last stretch shorter than ``min_stretch_m`` (50 m) is dropped.
4. Per stretch, with ``sigma`` the standard deviation (g) of the vertical dynamic acceleration
   and ``v`` the mean speed (m/s)::

       IRI = iri_per_g * sigma * (reference_speed_mps / v) ** speed_exponent

Calibration, stated honestly. RoadLab Pro's published material (its app manual) documents the
100 m reporting and the display classes but not the regression's constants, and no published
constants could be found for this module, so the form and constant here are reasoned, not fitted:

- **Form** (``speed_exponent = 0.5``). Road profiles follow the ISO 8608 spectrum, displacement
  PSD proportional to wavenumber**-2, i.e. a white slope. At speed ``v`` the vertical velocity
  entering the tyre is then white noise whose intensity grows with ``v``, so a linear car
  body's acceleration variance grows with ``v`` and its standard deviation with ``sqrt(v)``;
  IRI, linear in the profile, grows with its amplitude. Hence ``IRI ∝ sigma / sqrt(v)``.
- **Reference speed** (``reference_speed_mps = 80 / 3.6``): the IRI's own simulation speed.
- **Constant** (``iri_per_g = 40`` m/km per g) is an **assumption**, not a calibration: a
  passenger car's body shaking at 0.1 g RMS (about 1 m/s², "uncomfortable" in ride-comfort
  terms) at 80 km/h is taken as IRI 4 m/km, the boundary between fair and poor. It ignores the
  vehicle, the phone's mount and the sample rate (a 5 Hz trace sees less of the body's
  ~1-2 Hz bounce harmonics than a 50 Hz one), so figures from different cars or phones are
  comparable only roughly; rankings along one drive are sounder than the absolute values.
  Calibrate ``iri_per_g`` against a profiler's IRI on a few known roads before relying on it.

Classes (m/km), as highways teams use them: good below 2, fair 2 to 4, poor 4 to 6, very poor 6
and above.
"""

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import fmean, pstdev

from analytics.potholes.detector import DetectorParams, Sample, vertical_dynamic
from ingest.kernel.params import require, require_in

CLASSES = ((2.0, "good"), (4.0, "fair"), (6.0, "poor"), (math.inf, "very poor"))
"""Upper bound (m/km, exclusive) of each IRI class, in order."""


@dataclass(frozen=True)
class RoughnessParams:
    """How a trace is cut into stretches and turned into IRI; see the module for the formula.

    Parameters
    ----------
    stretch_m
        Length of a stretch (m).
    min_stretch_m
        Shortest last stretch (m) still reported.
    min_speed_mps
        Samples slower than this are left out.
    min_samples
        Fewest samples a stretch needs for a standard deviation to mean something.
    max_step_s
        Longest interval (s) a sample's speed is integrated over, so that a gap in the
        recording does not turn into a jump in distance.
    gravity_tau_s
        Time constant of the low-pass that estimates gravity (the detector's default).
    iri_per_g
        IRI (m/km) per g of vertical standard deviation at the reference speed (an assumption).
    reference_speed_mps
        Speed at which ``iri_per_g`` holds.
    speed_exponent
        Power of ``reference_speed_mps / speed`` in the formula.
    """

    stretch_m: float = 100.0
    min_stretch_m: float = 50.0
    min_speed_mps: float = 4.0
    min_samples: int = 10
    max_step_s: float = 1.0
    gravity_tau_s: float = DetectorParams.gravity_tau_s
    iri_per_g: float = 40.0
    reference_speed_mps: float = 80 / 3.6
    speed_exponent: float = 0.5

    def __post_init__(self) -> None:
        require_in("stretch_m", self.stretch_m, 0, 10_000, lo_open=True)
        require_in("min_stretch_m", self.min_stretch_m, 0, self.stretch_m)
        require_in("min_speed_mps", self.min_speed_mps, 0, 100, lo_open=True)
        require_in("min_samples", self.min_samples, 2, 100_000)
        require_in("max_step_s", self.max_step_s, 0, 60, lo_open=True)
        require_in("gravity_tau_s", self.gravity_tau_s, 0, 10, lo_open=True)
        require_in("iri_per_g", self.iri_per_g, 0, 10_000, lo_open=True)
        require_in("reference_speed_mps", self.reference_speed_mps, 0, 100, lo_open=True)
        require_in("speed_exponent", self.speed_exponent, 0, 2)


@dataclass(frozen=True)
class Stretch:
    """The estimated roughness of one stretch of a drive.

    Times are the trace's own (``Sample.t``); ``latitude``, ``longitude`` are where half its
    distance was driven; ``speed_mps`` is the mean speed of its samples; ``road_class`` is the
    class of ``iri_m_per_km``.
    """

    start_time: float
    end_time: float
    latitude: float
    longitude: float
    distance_m: float
    speed_mps: float
    iri_m_per_km: float
    road_class: str


def iri_class(iri_m_per_km: float) -> str:
    """The class of an IRI (m/km): good, fair, poor or very poor (see ``CLASSES``)."""
    return next(name for bound, name in CLASSES if iri_m_per_km < bound)


def estimate_iri(sigma_g: float, speed_mps: float, params: RoughnessParams) -> float:
    """Estimated IRI (m/km) from the vertical acceleration's standard deviation and the speed.

    Parameters
    ----------
    sigma_g
        Standard deviation (g) of the vertical dynamic acceleration over a stretch.
    speed_mps
        Mean speed (m/s) over it; positive.
    params
        The calibration.
    """
    ratio: float = (params.reference_speed_mps / speed_mps) ** params.speed_exponent
    return params.iri_per_g * sigma_g * ratio


def roughness(
    samples: Sequence[Sample], params: RoughnessParams = RoughnessParams()
) -> list[Stretch]:
    """Estimated IRI per stretch of about ``params.stretch_m`` driven.

    Parameters
    ----------
    samples
        The trace (``Sample.t`` in s, speed in m/s, acceleration in g with gravity), from a
        phone in any fixed orientation, at 5 Hz or more; strictly increasing times, finite values.
    params
        Stretch length, speed threshold and calibration.

    Returns
    -------
    list[Stretch]
        One row per stretch, in time order; stretches with fewer than ``min_samples`` moving
        samples are left out.

    Raises
    ------
    ValueError
        Times not strictly increasing, or a value not finite.
    """
    trace = list(samples)
    for s in trace:
        require(
            all(math.isfinite(v) for v in (s.t, s.lat, s.lon, s.speed, s.ax, s.ay, s.az)),
            f"Expected finite values, got a sample at t={s.t}.",
        )
    for a, b in itertools.pairwise(trace):
        require(b.t > a.t, f"Expected strictly increasing times, got {b.t} after {a.t}.")
    if not trace:
        return []
    dyn = vertical_dynamic(trace, params.gravity_tau_s)
    out: list[Stretch] = []
    current: list[tuple[Sample, float, float]] = []  # (sample, its vertical, distance so far)
    distance = 0.0
    for i, s in enumerate(trace):
        if s.speed < params.min_speed_mps:
            continue
        step = min(s.t - trace[i - 1].t, params.max_step_s) if i else 0.0
        distance += s.speed * step
        current.append((s, dyn[i], distance))
        if distance >= params.stretch_m:
            out.extend(_stretch(current, params))
            current, distance = [], 0.0
    if distance >= params.min_stretch_m:
        out.extend(_stretch(current, params))
    return out


def _stretch(rows: list[tuple[Sample, float, float]], params: RoughnessParams) -> list[Stretch]:
    """The stretch of these samples, or none when too few to measure."""
    if len(rows) < params.min_samples:
        return []
    distance = rows[-1][2]
    middle = next(s for s, _, d in rows if d >= distance / 2)
    speed = fmean(s.speed for s, _, _ in rows)
    iri = estimate_iri(pstdev(z for _, z, _ in rows), speed, params)
    return [
        Stretch(
            start_time=rows[0][0].t,
            end_time=rows[-1][0].t,
            latitude=middle.lat,
            longitude=middle.lon,
            distance_m=distance,
            speed_mps=speed,
            iri_m_per_km=iri,
            road_class=iri_class(iri),
        )
    ]
