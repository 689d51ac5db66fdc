"""Schedules found with the LP and the solvers: LP rounding, window search (CP-SAT on windows of
jobs) and the large-instance search. Imports :mod:`..formulation`, :mod:`..schedules`,
:mod:`..bounds` and :mod:`..backends`.
"""
