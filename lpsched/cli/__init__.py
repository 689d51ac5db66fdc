"""The ``lpsched`` command line: a thin layer that parses, calls the Python API and prints.

Conventions every command follows:

* ``--json`` prints one JSON object (the stable keys are documented in docs/cli.md);
* bad input (malformed file, bad option, unknown name) prints one line ``lpsched: error: …`` on
  stderr and exits with code 2, never a traceback;
* other exit codes are the command's own verdict (``verify``: 0 feasible, 1 infeasible).

One module per command group, each exposing ``register(group)``:

* ``instance``: ``info``, ``verify`` (and ``generate``/``trace`` from ``generate``);
* ``offline``: ``solve``, ``bounds``, ``export-ip``, ``read-solution``;
* ``online``: ``simulate``;
* ``compare``: ``sweep``, ``report``, ``demo``, ``reproduce``;
* ``replay``: ``replay``, ``validate-vllm``, ``fit-profile``, ``replay-study``;
* ``adversary``: ``adversary``, ``construct``.

``common`` holds the shared printing helpers and ``app`` the group and ``main``. Command modules
import heavy subsystems (OR-Tools through ``lpsched.offline``, the comparator, the replay engine)
inside the command that needs them, so that ``lpsched simulate`` does not pay for them at start-up.
"""

from __future__ import annotations

from .app import cli, main
from .common import emit, json_option

__all__ = ["main", "cli", "emit", "json_option"]
