"""Where the checkout, its fixtures and the shared z2jh renders are: defined once.

Plain module (no pytest), so ``bench/bench.py`` uses the same definitions as the tests.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "fixtures"
Z2JH = REPO.parent / "shared" / "fixtures" / "z2jh-4.4.0"
TOOLS = Path(os.environ.get("JHUB_CK8S_TOOLS", REPO / ".tools"))
Z2JH_MISSING = f"shared z2jh fixtures not found at {Z2JH} (they live beside the checkout, not in it)"
