"""Write a small CMU-Panoptic-format dataset: calibration, HD images, 3D ground truth, 2D pseudo poses.

Layout (the real one; see ``pose3d.multiview.datasets.panoptic``)::

    <root>/<seq>/calibration_<seq>.json          cameras[]: name, type, resolution, panel, node, K,
                                                 distCoef, R, t (y-up world, centimetres)
    <root>/<seq>/hdImgs/<cam>/<cam>_<frame:08d>.jpg   images at reduced resolution
    <root>/<seq>/hdPose3d_stage1_coco19/body3DScene_<frame:08d>.json
    <root>/pseudo_2d/<seq>.json                  2D pseudo poses (pernav-pseudo2d v1, see
                                                 ``pose3d.multiview.pseudo_labels``), full-resolution pixels

Pseudo poses are the projected ground truth corrupted like an off-the-shelf detector: pixel noise,
missing joints, left/right swaps, missed people and false positives. Same config -> same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from sim.synthetic.panoptic.body import NUM_BODY_JOINTS, Walker, spawn_walkers
from sim.synthetic.panoptic.files import rounded, write_image, write_json
from sim.synthetic.panoptic.render import background, look_at, project, render_people

#: y-up (Panoptic) <-> z-up (VoxelPose) axis change: z-up = p_yup @ M.
M = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])
#: HD camera nodes: VoxelPose's five first, then extra ones.
CAMERA_NODES = (3, 6, 12, 13, 23, 1, 8, 16, 19, 28)
FULL_SIZE = (1920, 1080)
#: Left/right pairs of Panoptic-15 joints swapped by the pseudo-pose corruption.
_LR_ARM = ((3, 9), (4, 10), (5, 11))
_LR_LEG = ((6, 12), (7, 13), (8, 14))


@dataclass
class PanopticSynthConfig:
    """Synthetic Panoptic sequence settings."""

    num_frames: int = 40
    """frames written per sequence"""
    frame_step: int = 3
    """HD frame index step between written frames (motion runs at 29.97 fps)"""
    min_people: int = 2
    """fewest people in a sequence"""
    max_people: int = 4
    """most people in a sequence"""
    num_cameras: int = 5
    """cameras around the space (5..10; the first five are VoxelPose's nodes 3, 6, 12, 13, 23)"""
    image_width: int = 320
    """written image width (calibration stays 1920x1080; loaders rescale)"""
    image_height: int = 180
    """written image height"""
    pseudo_noise_px: float = 5.0
    """std of the 2D pseudo-pose pixel noise at full resolution"""
    pseudo_drop_joint: float = 0.05
    """probability that a joint is missing from a pseudo pose"""
    pseudo_swap: float = 0.05
    """probability that a pseudo pose has its arms or legs swapped left/right"""
    pseudo_miss: float = 0.03
    """probability that a person is not detected in a view"""
    pseudo_false_positive: float = 0.15
    """probability of one spurious detection per image"""
    write_images: bool = True
    """render JPEG images (pseudo poses and GT do not need them)"""


def make_cameras(rng: np.random.Generator, count: int) -> list[dict]:
    """``count`` calibrated HD cameras on a ring around the capture space (z-up, mm)."""
    if not 1 <= count <= len(CAMERA_NODES):
        raise ValueError(f"num_cameras must be in 1..{len(CAMERA_NODES)}, got {count}")
    cams = []
    for i in range(count):
        ang = 2 * np.pi * i / count + rng.uniform(-0.2, 0.2)
        radius = rng.uniform(4600, 5400)
        center = np.array([radius * np.cos(ang), -500 + radius * np.sin(ang), rng.uniform(1400, 2600)])
        target = np.array([rng.uniform(-400, 400), -500 + rng.uniform(-400, 400), rng.uniform(700, 1000)])
        R, t = look_at(center, target)
        f = rng.uniform(1150, 1300)
        K = np.array([[f, 0, 960 + rng.uniform(-15, 15)], [0, f, 540 + rng.uniform(-15, 15)], [0, 0, 1]])
        dist = np.array(
            [
                rng.uniform(-0.3, -0.2),
                rng.uniform(0.05, 0.15),
                rng.uniform(-1e-3, 1e-3),
                rng.uniform(-1e-3, 1e-3),
                rng.uniform(-0.03, 0.0),
            ]
        )
        cams.append({"node": CAMERA_NODES[i], "K": K, "dist": dist, "R": R, "t": t})
    return cams


def _calibration_json(cams: list[dict]) -> dict:
    entries = []
    for c in cams:
        entries.append(
            {
                "name": f"00_{c['node']:02d}",
                "type": "hd",
                "resolution": list(FULL_SIZE),
                "panel": 0,
                "node": c["node"],
                "K": rounded(c["K"], 6),
                "distCoef": rounded(c["dist"], 8),
                "R": rounded(c["R"] @ M.T, 10),
                "t": rounded((c["t"] / 10).reshape(3, 1), 6),
            }
        )
    return {"calibDataSource": "pernav-synthetic", "cameras": entries}


def _body3d_scene(people: list[np.ndarray], ids: list[int], rng: np.random.Generator) -> dict:
    bodies = []
    for pid, joints in zip(ids, people, strict=True):
        yup_cm = joints[:19] @ M.T / 10  # inverse of z-up = p @ M * 10
        conf = np.where(rng.random(19) < 0.03, 0.05, rng.uniform(0.5, 1.0, 19))
        conf[2] = max(conf[2], 0.5)
        bodies.append({"id": pid, "joints19": rounded(np.concatenate([yup_cm, conf[:, None]], 1).reshape(-1), 3)})
    return {"version": 0.7, "univTime": 0.0, "fpsType": "hd_29_97", "bodies": bodies}


def _pseudo_poses(
    uv: np.ndarray, z: np.ndarray, rng: np.random.Generator, cfg: PanopticSynthConfig, pool: list[np.ndarray]
) -> tuple[list, list, list, list]:
    """Corrupt projected GT [P, 15, 2] into detector-like poses (full-resolution pixels)."""
    w, h = FULL_SIZE
    out_j, out_v, out_b, out_s = [], [], [], []
    candidates = [(p, 0.7 + 0.3 * rng.random()) for p in range(len(uv))]
    fp = rng.random() < cfg.pseudo_false_positive and pool
    if fp:
        candidates.append((-1, 0.3 + 0.4 * rng.random()))
    for p, score in candidates:
        if p >= 0:
            if rng.random() < cfg.pseudo_miss or (z[p] < 100).any():
                continue
            joints = uv[p] + rng.normal(0, cfg.pseudo_noise_px, uv[p].shape)
        else:
            joints = pool[int(rng.integers(len(pool)))] + rng.uniform([-600, -200], [600, 200])
        vis = rng.uniform(0.6, 1.0, 15)
        vis[rng.random(15) < cfg.pseudo_drop_joint] = 0.0
        inside = (joints[:, 0] >= 0) & (joints[:, 0] < w) & (joints[:, 1] >= 0) & (joints[:, 1] < h)
        vis[~inside] = 0.0
        if (vis > 0).sum() < 4:
            continue
        if rng.random() < cfg.pseudo_swap:
            for a, b in _LR_ARM if rng.random() < 0.5 else _LR_LEG:
                joints[[a, b]] = joints[[b, a]]
        joints[vis == 0] = 0.0
        seen = joints[vis > 0]
        box = np.concatenate([seen.min(0) - 20, seen.max(0) + 20])
        out_j.append(rounded(joints, 2))
        out_v.append(rounded(vis, 3))
        out_b.append(rounded(np.clip(box, 0, [w, h, w, h]), 2))
        out_s.append(round(float(score), 4))
    return out_j, out_v, out_b, out_s


def write_panoptic_sequence(root: Path, seq: str, cfg: PanopticSynthConfig, seed: int, progress: bool = True) -> None:
    """Write one sequence ``root/seq`` and its pseudo poses ``root/pseudo_2d/<seq>.json``."""
    rng = np.random.default_rng(seed)
    cams = make_cameras(rng, cfg.num_cameras)
    write_json(root / seq / f"calibration_{seq}.json", _calibration_json(cams))
    bounds = np.array([[-3000.0, 3000.0], [-3500.0, 2500.0]])
    walkers: list[Walker] = spawn_walkers(rng, int(rng.integers(cfg.min_people, cfg.max_people + 1)), bounds)
    sx, sy = cfg.image_width / FULL_SIZE[0], cfg.image_height / FULL_SIZE[1]
    backgrounds = [background(rng, cfg.image_height, cfg.image_width) for _ in cams]
    dt = cfg.frame_step / 29.97
    records = []
    pool: list[np.ndarray] = []
    for k in tqdm(range(cfg.num_frames), desc=f"synthetic {seq}", disable=not progress):
        frame = k * cfg.frame_step
        for _ in range(cfg.frame_step):
            for w in walkers:
                w.step(dt / cfg.frame_step, rng, bounds, [o.xy for o in walkers if o is not w])
        people = [w.joints(frame / 29.97) for w in walkers]
        assert all(p.shape == (NUM_BODY_JOINTS, 3) for p in people)
        write_json(
            root / seq / "hdPose3d_stage1_coco19" / f"body3DScene_{frame:08d}.json",
            _body3d_scene(people, list(range(len(people))), rng),
        )
        for c in cams:
            name = f"00_{c['node']:02d}"
            image = f"{seq}/hdImgs/{name}/{name}_{frame:08d}.jpg"
            if cfg.write_images:
                Ks = np.diag([sx, sy, 1.0]) @ c["K"]
                img = render_people(
                    backgrounds[cams.index(c)],
                    people,
                    [w.colours for w in walkers],
                    Ks,
                    c["dist"],
                    c["R"],
                    c["t"],
                )
                write_image(root / image, img)
            uv, z = project(np.stack(people)[:, :15], c["K"], c["dist"], c["R"], c["t"])
            pool.extend(uv)
            j2d, vis, boxes, scores = _pseudo_poses(uv, z, rng, cfg, pool)
            records.append(
                {
                    "key": f"{seq}/{name}/{frame:08d}",
                    "image": image,
                    "camera": name,
                    "width": FULL_SIZE[0],
                    "height": FULL_SIZE[1],
                    "joints_2d": j2d,
                    "joints_2d_vis": vis,
                    "bboxes": boxes,
                    "scores": scores,
                }
            )
    write_json(
        root / "pseudo_2d" / f"{seq}.json",
        {"format": "pernav-pseudo2d", "version": 1, "joints": "panoptic15", "records": records},
    )


def write_panoptic_dataset(
    root: Path, sequences: list[str], cfg: PanopticSynthConfig, seed: int = 0, progress: bool = True
) -> list[Path]:
    """Write several sequences (sequence ``i`` is seeded with ``seed * 1000 + i``); returns their folders."""
    root = Path(root)
    for i, seq in enumerate(sequences):
        write_panoptic_sequence(root, seq, cfg, seed * 1000 + i, progress)
    return [root / s for s in sequences]
