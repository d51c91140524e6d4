"""Measured efficacy: after a plan ends, what it really did beside what it predicted.

- :mod:`.measure`: the pure comparison of the cluster before and after;
- :mod:`.calibration`: migration bandwidth learnt from measured durations;
- :mod:`.store`: where both are kept;
- :mod:`.recorder`: the applier's hook that collects, measures and learns.
"""
