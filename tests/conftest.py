"""Shared fixtures: small hand-made account tables and the shipped Fortune 1000 data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parent.parent
FORTUNE = ROOT / "examples" / "data" / "fortune1000" / "accounts.csv"
FORTUNE_SPEC = ROOT / "examples" / "specs" / "fortune_rebalance.toml"


@pytest.fixture(scope="session")
def fortune() -> pd.DataFrame:
    return pd.read_csv(FORTUNE)


def random_accounts(n: int, seed: int, territories: int = 3) -> pd.DataFrame:
    """Accounts with a heavy-tailed revenue, a tier, an owner and a family id."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "account_id": [f"A{i:03d}" for i in range(n)],
            "revenue": np.round(rng.lognormal(3.0, 1.0, n), 1),
            "employees": rng.integers(10, 5000, n),
            "tier": rng.choice(["A", "B"], n, p=[0.3, 0.7]),
            "owner": [f"T{t:02d}" for t in rng.integers(1, territories + 1, n)],
            "family": rng.choice(["f1", "f2", "f3", None], n),
        }
    )
