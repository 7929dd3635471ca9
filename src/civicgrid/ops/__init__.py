"""Operations (运维): the health endpoint, Prometheus metrics, structured logs, backup and restore,
and the fake SMS gateway the fault tests and benchmarks deliver to. See docs/operations.md."""
