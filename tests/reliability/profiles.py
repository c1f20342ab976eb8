"""Hypothesis profiles for the reliability suite.

    ci    a few hundred examples per target (the default; what `pytest` runs)
    long  10,000 examples per target: PAPERSCOPE_LONG=1 pytest tests/reliability  (see docs/RELIABILITY.md)

No example database is written (the suite must leave the checkout clean); failures print their seed.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

_COMMON = dict(deadline=None, database=None, print_blob=True,
               suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                      HealthCheck.filter_too_much])
settings.register_profile("ci", max_examples=int(os.environ.get("PAPERSCOPE_FUZZ_EXAMPLES", "200")), **_COMMON)
settings.register_profile("long", max_examples=10_000, **_COMMON)

LONG = os.environ.get("PAPERSCOPE_LONG") == "1"
PROFILE = "long" if LONG else "ci"
settings.load_profile(PROFILE)
