"""Operations tests that need an alert receiver get the alerts tests' one on loopback."""

from tests.receiver import receiver  # noqa: F401  (a fixture)
