"""Write a synthetic dataset in the OmniHD-Scenes layout.

```
<root>/<scene_token>/cameras/<camera>/<ts>.jpg
<root>/<scene_token>/lidar/lidar_top_compensation/<ts>.bin     float32 x 5 per point
<root>/<scene_token>/radars/<radar>/<radar_ts>.bin             float32 x 8 per point (radar frame)
<root>/<scene_token>/occ_gt/<ts>.npz                           "occ_gt": (N, 4) = (ix, iy, iz, class)
<root>/v1.0-trainval/{sample,sample_data,annotations,ego_pose,imu_data,sensor_calibration,scene_split,meta}.json
```
Tokens are microsecond timestamps; ego_pose / imu_data records are keyed by scene_token + token, as in the
devkit. The first clips are train, the last `val_clips` are val (disjoint streets). Tables are written last,
so an interrupted run leaves no loadable dataset.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from sim.atomic import write_bytes_atomic
from sim.synthetic.omnihd.files import jpeg_bytes, json_bytes, npz_bytes
from sim.synthetic.omnihd.format import CAMERAS, CLASS_NAMES, LIDAR, RADARS, VERSION
from sim.synthetic.omnihd.sensors import make_cameras, radar_to_ego, render_camera, scan_lidar, scan_radar
from sim.synthetic.omnihd.voxelize import dense_to_sparse, voxelize
from sim.synthetic.omnihd.world import World, make_world

BASE_TIMESTAMP_US = 1_693_700_000_000_000
CLIP_SPACING_US = 120_000_000
SEED_SPACING_US = 10_000_000_000  # scene tokens of different seeds never collide (up to 83 clips per seed)
RADAR_DELAY_US = 12_000  # each radar fires slightly before the LiDAR sync time, radar i by (i+1) x this


@dataclass
class GeneratorConfig:
    """Size and seed of a synthetic OmniHD-Scenes dataset."""

    clips: int = 4
    """number of clips (scenes)"""
    val_clips: int = 1
    """how many of the clips go to the val split (the rest are train)"""
    frames: int = 6
    """synchronised frames per clip (every frame is a sample with occ_gt)"""
    frame_interval_s: float = 0.5
    """time between frames"""
    image_height: int = 48
    """stored height of the 4 side cameras (front/back are stored at 2x, as in the real data)"""
    image_width: int = 80
    """stored width of the 4 side cameras"""
    agents: int = 30
    """moving or parked agents per clip"""
    seed: int = 0
    """same seed and config → byte-identical files"""


def _pose_list(T: np.ndarray) -> list[list[float]]:
    return [[round(float(v), 9) for v in row] for row in T]


def _annotations(world: World, t: float, ego2global: np.ndarray) -> list[dict]:
    boxes, _ = world.agents_at(t)
    g2e = np.linalg.inv(ego2global)
    yaw_ego = np.arctan2(ego2global[1, 0], ego2global[0, 0])
    out = []
    for i, (box, cls) in enumerate(zip(boxes, world.agent_classes, strict=True)):
        c = g2e[:3, :3] @ box[:3] + g2e[:3, 3]
        if np.abs(c[0]) > 60 or np.abs(c[1]) > 40:
            continue
        out.append({
            "id": i,
            "category": CLASS_NAMES[cls - 1],
            "center": {"x": float(c[0]), "y": float(c[1]), "z": float(c[2])},
            "size": {"x": float(box[3]), "y": float(box[4]), "z": float(box[5])},
            "rotation": {"z": float(box[6] - yaw_ego)},
            "visibility": 1,
        })
    return out


def write_dataset(root: str | Path, cfg: GeneratorConfig, progress: bool = True) -> Path:
    """Generate the dataset under `root`; returns `root`. Deterministic in `cfg`."""
    if cfg.clips < 1 or not 0 <= cfg.val_clips < cfg.clips + 1 or cfg.frames < 1:
        raise ValueError(f"GeneratorConfig: need clips >= 1, 0 <= val_clips <= clips, frames >= 1; got {cfg}")
    root = Path(root)
    tables: dict[str, list] = {k: [] for k in ("sample", "sample_data", "annotations", "ego_pose", "imu_data",
                                                "sensor_calibration", "meta")}
    scenes: list[str] = []
    cams = make_cameras(cfg.image_height, cfg.image_width)
    radar_ext = {r: radar_to_ego(r) for r in RADARS}
    bar = tqdm(total=cfg.clips * cfg.frames, desc="omnihd frames", disable=not progress)
    for clip in range(cfg.clips):
        rng = np.random.default_rng([cfg.seed, clip])
        duration = cfg.frames * cfg.frame_interval_s
        ego_speed = float(rng.uniform(4.0, 9.0))
        world = make_world(rng, length=ego_speed * duration + 10, ego_speed=ego_speed, num_agents=cfg.agents)
        scene = str(BASE_TIMESTAMP_US + (cfg.seed % 10_000) * SEED_SPACING_US + clip * CLIP_SPACING_US)
        scenes.append(scene)
        tables["meta"].append({"token": scene, "description": f"synthetic street, seed {cfg.seed}, clip {clip}"})
        calib = {c.name: {"intrinsic": c.K.tolist(), "distortion": c.dist.tolist(), "camera2ego": _pose_list(c.cam2ego)}
                 for c in cams}
        calib.update({r: {"radar2ego": _pose_list(radar_ext[r])} for r in RADARS})
        tables["sensor_calibration"].append({"token": scene, "calib": calib})
        tokens = [str(int(scene) + round(i * cfg.frame_interval_s * 1e6)) for i in range(cfg.frames)]
        for i, tok in enumerate(tokens):
            t = i * cfg.frame_interval_s
            pose = world.ego_pose(t)
            boxes, classes, _ = world.boxes_at(t)
            near = np.linalg.norm(boxes[:, :2] - pose[:2, 3], axis=1) < 110
            b, c = boxes[near], classes[near]
            rec = {"token": tok, "scene_token": scene, "prev": tokens[i - 1] if i else "",
                   "next": tokens[i + 1] if i + 1 < len(tokens) else "",
                   "lidar": {LIDAR: f"{scene}/lidar/{LIDAR}/{tok}.bin"}, "cameras": {}, "radars": {},
                   "ego_pose": {LIDAR: tok}}
            for cam in cams:
                path = f"{scene}/cameras/{cam.name}/{tok}.jpg"
                write_bytes_atomic(root / path, jpeg_bytes(render_camera(cam, pose, b, c, rng)))
                rec["cameras"][cam.name] = path
            write_bytes_atomic(root / rec["lidar"][LIDAR], scan_lidar(pose, b, c, rng).tobytes())
            _add_pose(tables, scene, tok, world, t)
            for k, radar in enumerate(RADARS):
                rts = str(int(tok) - (k + 1) * RADAR_DELAY_US)
                tr = t - (k + 1) * RADAR_DELAY_US * 1e-6
                rpose = world.ego_pose(tr)
                rboxes, rcls, rvel = world.boxes_at(tr)
                ego_vel_global = rpose[:3, :3] @ world.ego_velocity(tr)
                pts = scan_radar(radar_ext[radar], rpose, ego_vel_global, rboxes[near], rcls[near], rvel[near], rng)
                path = f"{scene}/radars/{radar}/{rts}.bin"
                write_bytes_atomic(root / path, pts.tobytes())
                rec["radars"][radar] = path
                rec["ego_pose"][radar] = rts
                _add_pose(tables, scene, rts, world, tr)
            occ = voxelize(pose, b, c)
            write_bytes_atomic(root / f"{scene}/occ_gt/{tok}.npz", npz_bytes(occ_gt=dense_to_sparse(occ)))
            tables["sample_data"].append(rec)
            tables["sample"].append({"token": tok, "scene_token": scene, "prev": rec["prev"], "next": rec["next"],
                                     "frame_idx": i, "timestamp": int(tok)})
            tables["annotations"].append({"token": tok, "annotations": _annotations(world, t, pose)})
            bar.update(1)
    bar.close()
    n_train = cfg.clips - cfg.val_clips
    tables["scene_split"] = {"train": scenes[:n_train], "val": scenes[n_train:], "test": []}  # type: ignore[assignment]
    for name, table in tables.items():
        write_bytes_atomic(root / VERSION / f"{name}.json", json_bytes(table))
    return root


def _add_pose(tables: dict[str, list], scene: str, token: str, world: World, t: float) -> None:
    pose = world.ego_pose(t)
    tables["ego_pose"].append({"scene_token": scene, "token": token, "pose": _pose_list(pose)})
    tables["imu_data"].append({"scene_token": scene, "token": token,
                               "velocity_ego": [round(float(v), 9) for v in world.ego_velocity(t)],
                               "acc_xyz": [0.0, 0.0, 9.81], "gyro_xyz": [0.0, 0.0, 0.0]})


__all__ = ["CAMERAS", "GeneratorConfig", "write_dataset"]
