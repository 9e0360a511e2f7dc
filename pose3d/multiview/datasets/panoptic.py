"""CMU Panoptic as VoxelPose and SelfPose3d consume it.

Layout read (``<root>/<seq>/...``): ``calibration_<seq>.json`` (y-up, cm), ``hdImgs/<cam>/<cam>_<frame:08d>.jpg``
and ``hdPose3d_stage1_coco19/body3DScene_<frame:08d>.json`` (``bodies[].joints19`` = 19 x (x, y, z, c) cm).
Joints become z-up millimetres (``p @ M * 10``); the first 15 are kept, a joint is visible when
``c > 0.1`` and a body whose root is not visible is dropped. Frames are every ``interval``-th
annotation file (VoxelPose: 3 for training, 12 for validation). 2D pseudo poses come from
``<pseudo_dir>/<seq>.json`` files (``pernav-pseudo2d``), matched to views by image file name.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from perception.geometry.camera import Camera, camera_from_panoptic, panoptic_world_to_mm
from pose3d.multiview.datasets.sample import FrameSample, ViewSample
from pose3d.multiview.pseudo_labels import PseudoRecord, attach_pseudo, read_pseudo_labels
from pose3d.skeleton import ROOT

VOXELPOSE_CAMERAS = ((0, 3), (0, 6), (0, 12), (0, 13), (0, 23))
TRAIN_SEQUENCES = (
    "160422_ultimatum1",
    "160224_haggling1",
    "160226_haggling1",
    "161202_haggling1",
    "160906_ian1",
    "160906_ian2",
    "160906_ian3",
    "160906_band1",
    "160906_band2",
)
VAL_SEQUENCES = ("160906_pizza1", "160422_haggling1", "160906_ian5", "160906_band4")
NUM_JOINTS = 15


def read_calibration(path: Path, cameras: Sequence[tuple[int, int]]) -> list[Camera]:
    """Cameras ``(panel, node)`` from ``calibration_<seq>.json``, in the requested order (z-up mm)."""
    try:
        doc = json.loads(path.read_text())
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: calibration file not found") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not valid JSON ({exc})") from None
    entries = doc.get("cameras") if isinstance(doc, dict) else None
    if not isinstance(entries, list):
        raise ValueError(f"{path}: no 'cameras' list")
    by_id = {(e.get("panel"), e.get("node")): e for e in entries if isinstance(e, dict)}
    out = []
    for panel, node in cameras:
        if (panel, node) not in by_id:
            raise ValueError(f"{path}: camera (panel {panel}, node {node}) not in the calibration")
        cam = camera_from_panoptic(by_id[(panel, node)], source=str(path))
        if cam.width == 0:
            cam = Camera(cam.K, cam.dist, cam.R, cam.t, 1920, 1080, cam.name)
        out.append(cam)
    return out


def read_body3d_scene(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """``body3DScene_<frame>.json`` -> ([G, 15, 3] z-up mm, [G, 15] visibility); bodies with a hidden root dropped."""
    try:
        doc = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not valid JSON ({exc})") from None
    bodies = doc.get("bodies") if isinstance(doc, dict) else None
    if not isinstance(bodies, list):
        raise ValueError(f"{path}: no 'bodies' list")
    joints, vis = [], []
    for i, body in enumerate(bodies):
        try:
            j19 = np.asarray(body["joints19"], dtype=np.float64).reshape(-1, 4)
        except (KeyError, TypeError, ValueError):
            raise ValueError(f"{path}: body {i} has no numeric 'joints19' of 19 x 4 values") from None
        if len(j19) != 19:
            raise ValueError(f"{path}: body {i} joints19 has {len(j19)} joints, expected 19")
        j = j19[:NUM_JOINTS]
        if j[ROOT, 3] <= 0.1:
            continue
        joints.append(panoptic_world_to_mm(j[:, :3]))
        vis.append((j[:, 3] > 0.1).astype(np.float64))
    return np.asarray(joints).reshape(-1, NUM_JOINTS, 3), np.asarray(vis).reshape(-1, NUM_JOINTS)


class PanopticDataset(Sequence[FrameSample]):
    """Frames of CMU Panoptic sequences (any subset of sequences and cameras).

    Args:
        root: folder holding ``<seq>/`` folders.
        sequences: sequence names (a subset works: SelfPose3d issue #7).
        cameras: (panel, node) pairs; VoxelPose's five HD cameras by default.
        interval: keep every ``interval``-th annotated frame.
        pseudo_dir: folder with ``<seq>.json`` pseudo-pose files (None: no 2D poses).
        skip_empty: drop frames without any ground-truth body (VoxelPose does).
    """

    def __init__(
        self,
        root: str | Path,
        sequences: Sequence[str],
        cameras: Sequence[tuple[int, int]] = VOXELPOSE_CAMERAS,
        interval: int = 3,
        pseudo_dir: str | Path | None = None,
        skip_empty: bool = True,
    ) -> None:
        self.root = Path(root)
        if interval < 1:
            raise ValueError(f"interval must be >= 1, got {interval}")
        if not sequences:
            raise ValueError("no sequences given")
        self.frames: list[FrameSample] = []
        for seq in sequences:
            seq_dir = self.root / seq
            if not seq_dir.is_dir():
                raise FileNotFoundError(f"{seq_dir}: sequence folder not found")
            cams = read_calibration(seq_dir / f"calibration_{seq}.json", cameras)
            pseudo: dict[tuple[str, str], PseudoRecord] = {}
            if pseudo_dir is not None:
                for rec in read_pseudo_labels(Path(pseudo_dir) / f"{seq}.json"):
                    pseudo[(rec.camera, Path(rec.image).name)] = rec
            anno = sorted((seq_dir / "hdPose3d_stage1_coco19").glob("body3DScene_*.json"))
            if not anno:
                raise FileNotFoundError(f"{seq_dir / 'hdPose3d_stage1_coco19'}: no body3DScene_*.json files")
            for path in anno[::interval]:
                frame = path.stem.split("_")[-1]
                joints, vis = read_body3d_scene(path)
                if skip_empty and len(joints) == 0:
                    continue
                views = []
                for cam in cams:
                    name = f"{cam.name}_{frame}.jpg"
                    view = ViewSample(cam, cam.width, cam.height, seq_dir / "hdImgs" / cam.name / name)
                    rec = pseudo.get((cam.name, name))
                    if rec is not None:
                        attach_pseudo(view, rec)
                    views.append(view)
                self.frames.append(FrameSample(f"{seq}/{frame}", views, joints, vis))

    def __len__(self) -> int:
        return len(self.frames)

    def __getitem__(self, i: int) -> FrameSample:  # type: ignore[override]
        return self.frames[i]
