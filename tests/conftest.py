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


@pytest.fixture(autouse=True, scope="session")
def _private_cache(tmp_path_factory):
    """Tests never read or fill the user's network cache."""
    folder = tmp_path_factory.mktemp("cache")
    old = os.environ.get("THUISDICHTBIJ_CACHE")
    os.environ["THUISDICHTBIJ_CACHE"] = str(folder)
    yield folder
    if old is None:
        os.environ.pop("THUISDICHTBIJ_CACHE", None)
    else:
        os.environ["THUISDICHTBIJ_CACHE"] = old
