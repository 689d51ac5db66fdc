"""The solver-free schedules: list schedules, fluid and tuned schedules, local and order search,
the pilot method, H-SF / SVF from :mod:`lpsched.online`. Imports :mod:`..formulation` only.
"""
