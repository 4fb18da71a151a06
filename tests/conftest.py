import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("THUISDICHTBIJ_DATA", REPO.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def data_dir() -> Path:
    if not (DATA / "README.md").is_file():
        pytest.skip(f"the offline data mirror is not at {DATA} (set THUISDICHTBIJ_DATA)")
    return DATA
