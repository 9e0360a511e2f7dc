"""A tiny generated OmniHD-Scenes dataset shared by the perception tests (written once per session)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.synthetic.omnihd import GeneratorConfig, write_dataset

TINY = GeneratorConfig(clips=2, val_clips=1, frames=3, image_height=24, image_width=40, agents=12, seed=3)


@pytest.fixture(scope="session")
def omnihd_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_dataset(tmp_path_factory.mktemp("omnihd") / "data", TINY, progress=False)
