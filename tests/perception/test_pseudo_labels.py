"""Pseudo-labels: segmentor fit, geometric constraints, atomic + resumable output, quality vs ground truth."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from perception.occupancy.cli import main as occ
from perception.occupancy.data.omnihd import OmniHDConfig, OmniHDScenes
from perception.occupancy.grid import VoxelGrid
from perception.occupancy.labels import load_occ_gt
from perception.pseudo_labels.geometry import free_space
from perception.pseudo_labels.segmentor import PrototypeSegmentor


def test_free_space_stops_before_the_hit() -> None:
    grid = VoxelGrid((-4.0, -4.0, -1.0, 4.0, 4.0, 1.0), (8, 8, 2))
    free = free_space(np.array([[3.5, 0.2, 0.5]]), grid, step=0.1, margin=0.6)
    assert free[4:7, 4, 1].all() and not free[7, 4, 1] and free.sum() == 3


def test_prototype_segmentor_separates_colours() -> None:
    rng = np.random.default_rng(0)
    img = np.zeros((20, 30, 3), np.uint8)
    img[:10] = [200, 30, 30]
    img[10:] = [70, 70, 75]
    img = np.clip(img + rng.normal(0, 5, img.shape), 0, 255).astype(np.uint8)
    v, u = np.mgrid[0:20, 0:30]
    uv = np.stack([u.ravel(), v.ravel()], 1)
    labels = np.where(uv[:, 1] < 10, 1, 8)
    seg = PrototypeSegmentor()
    seg.fit([img], [uv[::3]], [labels[::3]])
    pred, conf = seg(img)
    assert (pred.ravel() == labels).mean() > 0.99 and conf.min() > 0.5


def test_pseudo_label_cli_writes_resumably_and_scores(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                      omnihd_root: Path) -> None:
    root = tmp_path / "data"
    shutil.copytree(omnihd_root, root)
    split_path = root / "v1.0-trainval" / "scene_split.json"
    split = json.loads(split_path.read_text())
    split = {"train": split["train"] + split["val"], "val": split["val"], "test": []}  # scene 2 = unlabelled
    split_path.write_text(json.dumps(split))
    out = tmp_path / "pseudo"
    args = ["pseudo-label", "--root", str(root), "--out", str(out), "--labeled-fraction", "0.5"]
    assert occ(args) == 0
    text = capsys.readouterr().out
    files = sorted(out.rglob("*.npz"))
    assert len(files) == 3 and all(split["val"][0] in str(f) for f in files)
    sc_iou = float(text.split("SC-IoU")[1].split()[0])
    assert sc_iou > 50.0, text  # far better than chance: geometry comes from the LiDAR
    labels = load_occ_gt(files[0])
    assert {0, 255} <= set(np.unique(labels).tolist()) and (labels == 8).sum() > 100
    mtimes = [f.stat().st_mtime_ns for f in files]
    assert occ(args) == 0  # resumable: existing files are kept
    assert [f.stat().st_mtime_ns for f in files] == mtimes
    # labelled / pseudo-labelled mix: the loader prefers occ_root and falls back to the dataset's labels
    ds = OmniHDScenes(OmniHDConfig(root=str(root), occ_root=str(out), history=0), "train")
    paths = [ds.label_path(ds.tables.sample_info(s, 1)) for s in ds.samples]
    assert sum(str(p).startswith(str(out)) for p in paths) == 3 and len(paths) == 6
    assert occ(["pseudo-label", "--root", str(root), "--out", str(root), "--labeled-fraction", "0.5"]) == 2
    assert "--out must differ" in capsys.readouterr().err
