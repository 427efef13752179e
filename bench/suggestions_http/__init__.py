"""Benchmark: GET /v1/suggestions over HTTP on a 1M-member store (README.md)."""
