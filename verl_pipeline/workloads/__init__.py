"""Synthetic rollout workloads for benchmarks and tests (agent loops verl loads by name)."""
