"""Tests against a real Nova + Placement + Prometheus (a package: see conftest.py)."""
