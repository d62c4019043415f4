"""The search engine: unit model, compiled move kernels, greedy start, annealing, descent.

Compiled kernels are cached on disk. numba keys a cache entry on the source file of the
function itself only, so an edit to a kernel that another module inlines would leave a
stale entry behind. The cache folder is therefore keyed on a hash of every engine source
file and the numba version, unless NUMBA_CACHE_DIR is set.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numba


def _cache_dir() -> Path:
    digest = hashlib.sha256(numba.__version__.encode())
    for source in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(source.read_bytes())
    base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return base / "smartplan" / f"numba-{digest.hexdigest()[:16]}"


if not os.environ.get("NUMBA_CACHE_DIR"):
    setattr(numba.config, "CACHE_DIR", str(_cache_dir()))  # noqa: B010
