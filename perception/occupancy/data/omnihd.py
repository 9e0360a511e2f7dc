"""`OmniHDScenes`: a torch Dataset over the real OmniHD-Scenes layout (or a generated copy of it)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from perception.geometry.transforms import invert_pose, relative_pose
from perception.occupancy.data.images import load_camera
from perception.occupancy.data.tables import CAMERAS, DOUBLE_RES_CAMERAS, RADARS, OmniHDTables, SampleInfo
from perception.occupancy.depth_targets import lidar_depth_images
from perception.occupancy.grid import OMNIHD_GRID, VoxelGrid
from perception.occupancy.labels import load_occ_gt
from perception.radar.compensation import compensate_sweep, crop_to_range

RADAR_DIMS = 8
LIDAR_DIMS = 5
#: radar features fed to the network (the baseline configs use the first 8 of the 10 loader outputs)
RADAR_USE_DIMS = 8


@dataclass
class OmniHDConfig:
    """How samples are read."""

    root: str = "data/omnihd"
    """dataset root (holds `v1.0-trainval/` and one folder per scene)"""
    image_scale: float = 1.0
    """scale applied after the devkit's front/back halving (0.5 gives 544x960 on the real data)"""
    pad_to: int = 32
    """images are zero-padded at the bottom/right to a multiple of this"""
    radar_sweeps: int = 3
    """radar sweeps per radar, newest first"""
    radar_range: tuple[float, ...] = (-72.0, -56.0, -3.0, 72.0, 56.0, 5.0)
    """radar points outside this box are dropped (the baseline's range)"""
    history: int = 1
    """previous samples returned with each sample, for the temporal memory bank"""
    occ_root: str = ""
    """read `occ_gt` from this root first (e.g. pseudo-labels); samples without a file there use the
    dataset's own labels, so a labelled / pseudo-labelled mix trains together"""


def read_points(path: Path, dims: int, kind: str) -> np.ndarray:
    """A float32 `.bin` point file → `[N, dims]`; errors name the file and what is wrong."""
    if not path.is_file():
        raise FileNotFoundError(f"{path}: {kind} file not found")
    raw = np.fromfile(path, dtype=np.float32)
    if raw.size % dims:
        raise ValueError(f"{path}: {kind} file has {raw.size} float32 values, not a multiple of {dims} per point")
    pts = raw.reshape(-1, dims)
    if not np.all(np.isfinite(pts[:, :3])):
        raise ValueError(f"{path}: {kind} points contain NaN or inf coordinates")
    return pts


def load_radar(info: SampleInfo, num_sweeps: int, point_range: tuple[float, ...]) -> np.ndarray:
    """All radars, `num_sweeps` sweeps each, compensated into the sample's LiDAR frame → `[N, 10]`."""
    out = []
    for radar_id, radar in enumerate(RADARS):
        for sweep in info.radars[radar][:num_sweeps]:
            raw = read_points(sweep.path, RADAR_DIMS, "radar")
            s2l = relative_pose(sweep.ego2global @ sweep.radar2ego, info.ego2global)
            out.append(compensate_sweep(raw, sweep.ego_velocity, sweep.radar2ego[:3, :3], s2l,
                                        info.time_s - sweep.time_s, radar_id))
    pts = np.concatenate(out) if out else np.zeros((0, 10), np.float32)
    return crop_to_range(pts, point_range)


class OmniHDScenes(Dataset):
    """Samples of one split, in clip order. Item keys:

    - `frames`: list (oldest first, current last; length `history + 1`) of dicts with
      `images [6, 3, H, W]`, `K [6, 3, 3]`, `cam2ego [6, 4, 4]`, `radar [P, 8]`, `ego2global [4, 4]`,
      `prev2cur [4, 4]` (this frame's ego → current ego; identity for the current frame); the current
      frame of a labelled sample also has `depth [6, H, W]`, LiDAR depth images that supervise the
      camera branch's depth distribution (0 = no return);
    - `occ [240, 160, 16]` int64 labels (0 free, 1..11 classes, 255 ignored), `token`, `scene`.
    """

    def __init__(self, cfg: OmniHDConfig, split: str = "train", grid: VoxelGrid = OMNIHD_GRID,
                 with_labels: bool = True) -> None:
        self.cfg, self.grid, self.with_labels = cfg, grid, with_labels
        self.tables = OmniHDTables(cfg.root)
        scenes = set(self.tables.scenes(split))
        samples = [s for s in self.tables.samples if s["scene_token"] in scenes]
        self.samples = sorted(samples, key=lambda s: (s["scene_token"], int(s["frame_idx"])))
        if not self.samples:
            raise ValueError(f"{cfg.root}: split {split!r} has no samples")
        self.index = {s["token"]: i for i, s in enumerate(self.samples)}

    def __len__(self) -> int:
        return len(self.samples)

    def history_indices(self, i: int) -> list[int]:
        """Indices of the frames returned for sample `i`, oldest first (the clip start is repeated)."""
        out = [i]
        for _ in range(self.cfg.history):
            prev = self.samples[out[0]]["prev"]
            out.insert(0, self.index.get(prev, out[0]) if prev else out[0])
        return out

    def label_path(self, info: SampleInfo) -> Path:
        """`occ_gt` file of a sample: under `occ_root` when it has one, else the dataset's own."""
        if self.cfg.occ_root:
            alt = Path(self.cfg.occ_root) / info.occ_path.relative_to(self.tables.root)
            if alt.is_file():
                return alt
        return info.occ_path

    def _frame(self, info: SampleInfo, cur_ego2global: np.ndarray, with_depth: bool) -> dict[str, torch.Tensor]:
        images, Ks, extr = [], [], []
        for cam in CAMERAS:
            path, calib = info.cameras[cam]
            img, K = load_camera(path, calib.K, calib.dist, cam in DOUBLE_RES_CAMERAS, self.cfg.image_scale,
                                 self.cfg.pad_to)
            images.append(img)
            Ks.append(K)
            extr.append(calib.cam2ego)
        shapes = {tuple(im.shape) for im in images}
        if len(shapes) != 1:
            raise ValueError(f"{info.scene} {info.token}: camera images differ in size after loading: {shapes}")
        radar = load_radar(info, self.cfg.radar_sweeps, self.cfg.radar_range)[:, :RADAR_USE_DIMS]
        frame = {
            "images": torch.stack(images),
            "K": torch.from_numpy(np.stack(Ks)).float(),
            "cam2ego": torch.from_numpy(np.stack(extr)).float(),
            "radar": torch.from_numpy(radar),
            "ego2global": torch.from_numpy(info.ego2global).double(),
            "prev2cur": torch.from_numpy(invert_pose(cur_ego2global) @ info.ego2global).float(),
        }
        if with_depth:
            lidar = read_points(info.lidar_path, LIDAR_DIMS, "lidar")[:, :3].astype(np.float64)
            depth = lidar_depth_images(lidar, np.stack(Ks), np.stack(extr), tuple(images[0].shape[-2:]))
            frame["depth"] = torch.from_numpy(depth)
        return frame

    def __getitem__(self, i: int) -> dict:
        infos = [self.tables.sample_info(self.samples[j], self.cfg.radar_sweeps) for j in self.history_indices(i)]
        cur = infos[-1]
        frames = [self._frame(info, cur.ego2global, self.with_labels and info is cur) for info in infos]
        item: dict = {"frames": frames, "token": cur.token,
                      "scene": cur.scene}
        if self.with_labels:
            item["occ"] = torch.from_numpy(load_occ_gt(self.label_path(cur), self.grid).astype(np.int64))
        return item


def collate(items: list[dict]) -> dict:
    """Batch items: per-frame tensors stacked (`depth` where every item has it); radar sets padded to
    `[B, P, 8]` with `radar_lengths [B]`."""
    frames = []
    for f in range(len(items[0]["frames"])):
        fr = [it["frames"][f] for it in items]
        lengths = torch.tensor([len(x["radar"]) for x in fr])
        radar = torch.zeros(len(fr), max(int(lengths.max()), 1), fr[0]["radar"].shape[1])
        for b, x in enumerate(fr):
            radar[b, : len(x["radar"])] = x["radar"]
        keys = ["images", "K", "cam2ego", "ego2global", "prev2cur"]
        keys += ["depth"] if all("depth" in x for x in fr) else []
        batch = {k: torch.stack([x[k] for x in fr]) for k in keys}
        batch.update(radar=radar, radar_lengths=lengths)
        frames.append(batch)
    out: dict = {"frames": frames, "token": [it["token"] for it in items], "scene": [it["scene"] for it in items]}
    if "occ" in items[0]:
        out["occ"] = torch.stack([it["occ"] for it in items])
    return out
