"""Failover readiness: could the cluster rebuild every instance if hosts failed?

The check is :func:`optimizer.readiness.check.check_readiness`; this package
imports nothing itself, so the CLI can list ``readiness`` without numpy.
"""
