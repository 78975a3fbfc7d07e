"""The pure decisions: is a rule breached by these counts (threshold, or a z-score against
the same hour of past weeks)?"""

from __future__ import annotations

import math
from dataclasses import dataclass

BASELINE_WEEKS = 4


@dataclass(frozen=True)
class Baseline:
    """The last hour's count against the same hour of past weeks."""

    current: int
    history: tuple[int, ...]  # one count per past week the project existed in

    @property
    def mean(self) -> float:
        return sum(self.history) / len(self.history)

    @property
    def sigma(self) -> float:
        """Sample standard deviation of the history, never below the Poisson floor
        sqrt(max(mean, 1)): four quiet weeks must not make every small wobble a spike."""
        mean, n = self.mean, len(self.history)
        spread = (math.sqrt(sum((c - mean) ** 2 for c in self.history) / (n - 1))
                  if n > 1 else 0.0)
        return max(spread, math.sqrt(max(mean, 1.0)))

    @property
    def z(self) -> float:
        return (self.current - self.mean) / self.sigma


def threshold_breached(comparator: str, threshold: int, value: int) -> bool:
    return value > threshold if comparator == ">" else value < threshold


def change_breached(kind: str, baseline: Baseline, z_score: float, min_volume: int) -> bool:
    """A spike: z >= z_score with at least `min_volume` events now. A drop: z <= -z_score
    where the past weeks averaged at least `min_volume` (a drop from almost nothing is noise).
    Without any past week there is no baseline and nothing is breached."""
    if not baseline.history:
        return False
    if kind == "spike":
        return baseline.current >= min_volume and baseline.z >= z_score
    return baseline.mean >= min_volume and baseline.z <= -z_score
