"""Development tooling: the private servers of `make run` and the tests, and demo traffic."""
