"""The ivrhooks bench app as an object, for ``ivrhooks run bench/apps/ivr_run.py:app``.

Built at import from ``BENCH_ROUTES`` and ``BENCH_SCHEME`` (see ``bench/apps/ivr.py``); a module
of its own so that importing ``bench.apps.ivr`` (tests do) builds nothing.
"""

from __future__ import annotations

from bench.apps.ivr import create

app = create()
