"""Instance sizes from the outside world: every bad value named, none raising."""
from __future__ import annotations

import pytest
from optimizer.models.records import instance_size_problem


@pytest.mark.parametrize("sizes, expected", [
    ((2, 4096, 40), None),
    ((float("nan"), 4096, 40), "vcpus must be between 0 and 65536, got nan"),
    ((2, -1, 40), "memory_mb must be between 0 and"),
    ((2, 4096, float("inf")), "disk_gb must be between 0 and"),
    ((10**400, 4096, 40), "vcpus must be between 0 and 65536, got 1000"),
    (("2", 4096, 40), "vcpus must be a number, got str '2'"),
])
def test_instance_size_problem_names_the_field_and_value(sizes, expected):
    problem = instance_size_problem(sizes)
    if expected is None:
        assert problem is None
    else:
        assert problem is not None and problem.startswith(expected), problem
        assert len(problem) <= 120
