"""The formulation layer: what the hindsight problem is, as data and models.

Job classes and run shapes, the objective (TEL), the closed-form lower bounds, the provably valid
horizons, core no-overlaps, the time-indexed model and its compact rows, the interval model.
Imports nothing else of :mod:`lpsched.offline`.
"""
