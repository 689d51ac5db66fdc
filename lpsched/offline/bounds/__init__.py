"""The LP bounds (the LP relaxation with column generation and its Lagrangian bound, the chain
LP) and :class:`~.report.BoundReport`, the report of every certified bound. Imports
:mod:`..formulation` and :mod:`..schedules`.
"""
