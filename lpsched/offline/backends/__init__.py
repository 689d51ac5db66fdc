"""The integer solvers on the models of :mod:`..formulation`: CP-SAT, HiGHS, CBC, the interval model
on CP-SAT, and the portfolio that runs several side by side. Imports :mod:`..formulation` only.
"""
