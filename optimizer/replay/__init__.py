"""Replay: what a consolidation policy would have done over days of real CPU traces.

``optimizer replay`` drives :mod:`optimizer.replay.simulation` (an event-driven
cloud in simulated time, CloudSim 3.0.3's power model by default) with the
power-aware consolidation round of
:mod:`optimizer.strategies.power_aware_consolidation`, and reports energy,
SLA and migration metrics (:mod:`optimizer.replay.metrics`).
"""
