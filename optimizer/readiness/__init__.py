"""Failover readiness: could the cluster rebuild every instance if hosts failed?"""
from optimizer.readiness.check import (
    FAILURE_DOMAINS,
    FailureCase,
    Readiness,
    ReadinessError,
    check_readiness,
)

__all__ = ["FAILURE_DOMAINS", "FailureCase", "Readiness", "ReadinessError", "check_readiness"]
