"""Load and latency benchmarks (run by `make bench*`), and the clients they share with tests."""
