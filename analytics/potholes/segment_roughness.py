"""Road roughness per road segment: the median of the phones' roughness stretches on it.

Phones measure an estimated International Roughness Index (m/km) per stretch of about 100 m
(``analytics.potholes.roughness``) and send it with their coverage track. A stretch belongs to
the segment nearest its middle, within ``match_radius_m``. A segment's roughness is the median
over its stretches, every pass of every phone counted, so one phone's odd mounting moves it
little; it is published only when at least ``MIN_PHONES`` distinct phones measured it
(``analytics.potholes.heatmap``: the same k-anonymity as the heatmap and coverage).

The classes (good, fair, poor, very poor) are ``analytics.potholes.roughness.iri_class``.
"""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from statistics import median

from analytics.potholes.coverage import Segment
from analytics.potholes.segment_index import SegmentIndex
from ingest.db.pseudonyms import distinct_phones
from ingest.kernel.params import require_in


@dataclass(frozen=True)
class RoughStretch:
    """One phone's roughness of one stretch: its pseudonym, the stretch's middle, IRI (m/km)."""

    device_id: str
    lat: float
    lon: float
    iri_m_per_km: float


@dataclass(frozen=True)
class SegmentRoughness:
    """A segment's median IRI over ``stretches`` stretches measured by ``phones`` phones."""

    segment_id: str
    iri_m_per_km: float
    phones: int
    stretches: int


def segment_roughness(
    segments: Sequence[Segment],
    stretches: Iterable[RoughStretch],
    match_radius_m: float = 15.0,
) -> list[SegmentRoughness]:
    """The roughness of every segment that at least one stretch matched, in segment order.

    Parameters
    ----------
    segments
        The council's road segments.
    stretches
        Roughness stretches from the phones' tracks.
    match_radius_m
        Farthest a stretch's middle may be from a segment to count as on it (GPS error).
    """
    require_in("match_radius_m", match_radius_m, 1, 100)
    if not segments:
        return []
    index = SegmentIndex(segments, match_radius_m)
    found: dict[int, list[RoughStretch]] = defaultdict(list)
    for s in stretches:
        hit = index.nearest(index.projection.complex(s.lat, s.lon))
        if hit is not None:
            found[hit[0]].append(s)
    return [
        SegmentRoughness(
            segments[si].segment_id,
            float(median(s.iri_m_per_km for s in found[si])),
            distinct_phones(s.device_id for s in found[si]),
            len(found[si]),
        )
        for si in sorted(found)
    ]
