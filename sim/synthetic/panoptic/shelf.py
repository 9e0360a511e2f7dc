"""Write a Shelf- or Campus-format sequence (VoxelPose layout) with synthetic people and 2D detections.

Files: ``calibration_<name>.json`` (``{"<id>": {R, T (centre, mm), fx, fy, cx, cy, k [3x1], p [2x1]}}``),
``actorsGT.mat`` (``actor3D``: 1 x A cell of F x 1 cells, each a 14 x 3 pose in metres or empty),
``pred_<name>_maskrcnn_hrnet_coco.pkl`` (``{"<id>_<frame>": [{"pred": 17 x [x, y, score]}]}``, plain
lists only) and small PNG images ``Camera<k>/...``. Frames before ``first_frame`` are empty, as in
the real files whose test ranges start at 300 (Shelf) and 350 (Campus).
"""

from __future__ import annotations

import io
import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.io
from tqdm import tqdm

from sim.atomic import write_bytes_atomic
from sim.synthetic.panoptic.body import HEAD_BOTTOM, HEAD_TOP, spawn_walkers
from sim.synthetic.panoptic.files import rounded, write_image, write_json
from sim.synthetic.panoptic.render import background, look_at, project, render_people

#: Body joints in Shelf-14 order and in COCO-17 order.
SHELF14_FROM_BODY = (14, 13, 12, 6, 7, 8, 11, 10, 9, 3, 4, 5, HEAD_BOTTOM, HEAD_TOP)
COCO17_FROM_BODY = (1, 15, 17, 16, 18, 3, 9, 4, 10, 5, 11, 6, 12, 7, 13, 8, 14)
LAYOUT = {
    "shelf": {
        "cameras": 5,
        "size": (1032, 776),
        "first": 300,
        "image": "Camera{cam}/img_{frame:06d}.png",
        "center": (450.0, -320.0),
    },
    "campus": {
        "cameras": 3,
        "size": (360, 288),
        "first": 350,
        "image": "Camera{cam}/campus4-c{cam}-{frame:05d}.png",
        "center": (3000.0, 4500.0),
    },
}


@dataclass
class ShelfSynthConfig:
    """Synthetic Shelf/Campus sequence settings."""

    name: str = "shelf"
    """``shelf`` (5 cameras, 1032x776) or ``campus`` (3 cameras, 360x288)"""
    num_frames: int = 30
    """frames written from the layout's first test frame on"""
    num_actors: int = 3
    """people (all present in every frame)"""
    image_scale: float = 0.25
    """written image size relative to the calibrated size"""
    det_noise_px: float = 3.0
    """std of the detection pixel noise"""
    det_miss: float = 0.03
    """probability that a person is not detected in a view"""
    det_false_positive: float = 0.1
    """probability of one spurious detection per image"""


def write_shelf_sequence(root: Path, cfg: ShelfSynthConfig, seed: int = 0, progress: bool = True) -> Path:
    """Write the sequence into ``root`` and return it."""
    if cfg.name not in LAYOUT:
        raise ValueError(f"name must be one of {sorted(LAYOUT)}, got {cfg.name!r}")
    lay = LAYOUT[cfg.name]
    root = Path(root)
    rng = np.random.default_rng(seed)
    width, height = lay["size"]
    cx, cy = lay["center"]
    calib, cams = {}, []
    for i in range(lay["cameras"]):
        ang = 2 * np.pi * i / lay["cameras"] + rng.uniform(-0.3, 0.3)
        # on the walls, outside the 8 x 8 m capture space, as in the real rooms
        center = np.array([cx + 6000 * np.cos(ang), cy + 6000 * np.sin(ang), rng.uniform(1800, 2600)])
        R, t = look_at(center, np.array([cx, cy, 900.0]))
        f = 1.2 * width * rng.uniform(0.95, 1.05)
        K = np.array([[f, 0, width / 2], [0, f, height / 2], [0, 0, 1]])
        dist = np.array([rng.uniform(-0.2, -0.1), rng.uniform(0.0, 0.1), 0.0, 0.0, 0.0])
        cams.append((K, dist, R, t))
        calib[str(i)] = {
            "R": rounded(R, 10),
            "T": rounded(center.reshape(3, 1), 4),
            "fx": round(f, 4),
            "fy": round(f, 4),
            "cx": width / 2,
            "cy": height / 2,
            "k": rounded(dist[[0, 1, 4]].reshape(3, 1), 8),
            "p": rounded(dist[[2, 3]].reshape(2, 1), 8),
        }
    write_json(root / f"calibration_{cfg.name}.json", calib)
    bounds = np.array([[cx - 2000, cx + 2000], [cy - 2000, cy + 2000]])
    walkers = spawn_walkers(rng, cfg.num_actors, bounds)
    bgs = [background(rng, round(height * cfg.image_scale), round(width * cfg.image_scale)) for _ in cams]
    first = lay["first"]
    actors = [[np.zeros((0, 0)) for _ in range(first + cfg.num_frames)] for _ in walkers]
    dets: dict[str, list[dict]] = {}
    pool: list[np.ndarray] = []
    for k in tqdm(range(cfg.num_frames), desc=f"synthetic {cfg.name}", disable=not progress):
        frame = first + k
        for w in walkers:
            w.step(1 / 25, rng, bounds, [o.xy for o in walkers if o is not w])
        people = [w.joints(frame / 25) for w in walkers]
        for a, p in enumerate(people):
            actors[a][frame] = np.round(p[list(SHELF14_FROM_BODY)] / 1000.0, 6)
        for c, (K, dist, R, t) in enumerate(cams):
            Ks = np.diag([cfg.image_scale, cfg.image_scale, 1.0]) @ K
            write_image(
                root / lay["image"].format(cam=c, frame=frame),
                render_people(bgs[c], people, [w.colours for w in walkers], Ks, dist, R, t),
            )
            found = []
            for p in people:
                uv, _ = project(p[list(COCO17_FROM_BODY)], K, dist, R, t)
                pool.append(uv)
                if rng.random() < cfg.det_miss:
                    continue
                uv = uv + rng.normal(0, cfg.det_noise_px, uv.shape)
                found.append(np.concatenate([uv, rng.uniform(0.6, 1.0, (17, 1))], 1))
            if rng.random() < cfg.det_false_positive:
                fake = pool[int(rng.integers(len(pool)))] + rng.uniform(-200, 200, 2)
                found.append(np.concatenate([fake, rng.uniform(0.2, 0.5, (17, 1))], 1))
            dets[f"{c}_{frame}"] = [{"pred": rounded(d, 3)} for d in found]
    cells = np.empty((1, len(actors)), dtype=object)
    for a, frames in enumerate(actors):
        col = np.empty((len(frames), 1), dtype=object)
        for f, pose in enumerate(frames):
            col[f, 0] = pose
        cells[0, a] = col
    buf = io.BytesIO()
    scipy.io.savemat(buf, {"actor3D": cells})
    write_bytes_atomic(root / "actorsGT.mat", buf.getvalue())
    write_bytes_atomic(root / f"pred_{cfg.name}_maskrcnn_hrnet_coco.pkl", pickle.dumps(dets, protocol=4))
    return root
