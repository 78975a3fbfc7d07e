"""Alert tests deliver to a receiver on loopback."""

from tests.receiver import receiver  # noqa: F401  (a fixture)
