"""The evaluation's figures as a text table or a JSON-ready dict (bench and CLI alike)."""

import math

from analytics.potholes.evaluate import Score


def format_table(scores: dict[str, Score]) -> str:
    """One row per asset-layer variant: counts, precisions, recalls, confirmed potholes per
    true pothole found (duplicates) and false positives."""
    head = (
        f"{'asset layer':<15} {'reports':>7} {'clusters':>8} {'confirmed':>9} {'precision':>9} "
        f"{'recall>=5':>13} {'incl. ends':>13} {'recall all':>13} {'humps conf.':>11} "
        f"{'distinct prec.':>14} {'conf./pothole':>13}  "
        "false positives by nearest"
    )
    lines = [head, "-" * len(head)]
    for name, s in scores.items():
        well = f"{s.recall_well_hit:.2f} ({s.well_hit_found}/{s.well_hit})"
        ends = f"{s.recall_well_hit_any:.2f} ({s.well_hit_any_found}/{s.well_hit_any})"
        every = f"{s.recall:.2f} ({s.potholes_found}/{s.potholes_hit})"
        humps = f"{s.hump_share:.2f} ({s.humps_confirmed}/{s.humps_well_hit})"
        false = ", ".join(f"{k} {v}" for k, v in sorted(s.false_by_kind.items())) or "-"
        lines.append(
            f"{name:<15} {s.reports:>7} {s.clusters:>8} {s.confirmed:>9} {s.precision:>9.2f} "
            f"{well:>13} {ends:>13} {every:>13} {humps:>11} "
            f"{s.precision_distinct:>14.2f} {s.per_pothole:>13.2f}  {false}"
        )
    return "\n".join(lines)


def score_dict(s: Score) -> dict[str, object]:
    """The score's counts and ratios; an undefined ratio (nothing to divide by) is ``None``."""
    return {
        "reports": s.reports,
        "clusters": s.clusters,
        "confirmed": s.confirmed,
        "true_confirmed": s.true_confirmed,
        "precision": _finite(s.precision),
        "recall": _finite(s.recall),
        "recall_well_hit": _finite(s.recall_well_hit),
        "recall_well_hit_incl_trip_ends": _finite(s.recall_well_hit_any),
        "hump_share": _finite(s.hump_share),
        "precision_distinct": _finite(s.precision_distinct),
        "confirmed_per_pothole": _finite(s.per_pothole),
        "potholes_hit": s.potholes_hit,
        "potholes_found": s.potholes_found,
        "well_hit": s.well_hit,
        "well_hit_found": s.well_hit_found,
        "well_hit_incl_trip_ends": s.well_hit_any,
        "well_hit_incl_trip_ends_found": s.well_hit_any_found,
        "humps_well_hit": s.humps_well_hit,
        "humps_confirmed": s.humps_confirmed,
        "potholes_located": s.located,
        "potholes_located_by": s.located_by,
        "distinct_true_confirmed": s.distinct_true,
        "false_by_kind": dict(sorted(s.false_by_kind.items())),
    }


def _finite(x: float) -> float | None:
    return None if math.isnan(x) else round(x, 4)
