"""The pure decisions: is a rule breached by these values (a threshold, or a z-score against
the same hour of past weeks, or against a trend's earlier buckets)?"""

from __future__ import annotations

import math
from dataclasses import dataclass

BASELINE_WEEKS = 4
# Values that are not counts (sums, averages, ratios) have no Poisson spread to fall back on:
# their spread is taken as never below this share of the mean's size, so a flat history (the
# same average basket every day) does not make every cent a spike.
RELATIVE_FLOOR = 0.05


@dataclass(frozen=True)
class Baseline:
    """A value now against the values before it: the last hour's count against the same hour
    of past weeks, or a trend's latest complete bucket against its earlier ones."""

    current: float
    history: tuple[float, ...]  # one value per past week the project existed in, or bucket
    counted: bool = True  # counts of events, users or values: Poisson's spread applies

    @property
    def mean(self) -> float:
        return sum(self.history) / len(self.history)

    @property
    def sigma(self) -> float:
        """Sample standard deviation of the history, never below the Poisson floor
        sqrt(max(mean, 1)) for counts (four quiet weeks must not make every small wobble a
        spike), nor below RELATIVE_FLOOR of the mean's size for other values."""
        mean, n = self.mean, len(self.history)
        spread = (math.sqrt(sum((c - mean) ** 2 for c in self.history) / (n - 1))
                  if n > 1 else 0.0)
        floor = math.sqrt(max(mean, 1.0)) if self.counted else abs(mean) * RELATIVE_FLOOR
        return max(spread, floor)

    @property
    def z(self) -> float:
        """(now - mean) / sigma; a history of zeros alone (sigma 0) puts any other value
        infinitely far."""
        sigma, change = self.sigma, self.current - self.mean
        if sigma == 0:
            return 0.0 if change == 0 else math.copysign(math.inf, change)
        return change / sigma


def threshold_breached(comparator: str, threshold, value) -> bool:
    return value > threshold if comparator == ">" else value < threshold


def change_breached(kind: str, baseline: Baseline, z_score: float, min_volume: float) -> bool:
    """A spike: z >= z_score with at least `min_volume` now. A drop: z <= -z_score where the
    history averaged at least `min_volume` (a drop from almost nothing is noise). Without any
    history there is no baseline and nothing is breached."""
    if not baseline.history:
        return False
    if kind == "spike":
        return baseline.current >= min_volume and baseline.z >= z_score
    return baseline.mean >= min_volume and baseline.z <= -z_score
