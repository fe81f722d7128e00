"""In-process and loopback fakes of external services, for tests and benchmarks."""
