"""OmniHD-Scenes `v1.0-trainval/*.json` tables: loading, validation and the per-sample index.

The devkit keys `ego_pose` / `imu_data` by `scene_token + "_" + token`, the other tables by `token`;
`sample_data` holds one record per synchronised frame with relative paths to every sensor file and the
ego-pose token of each sensor; `sensor_calibration` holds, per scene, camera intrinsics, distortion,
camera2ego and radar2ego.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from perception.geometry.transforms import as_pose

VERSION = "v1.0-trainval"
LIDAR = "lidar_top_compensation"
CAMERAS: tuple[str, ...] = ("camera_front", "camera_left_front", "camera_right_front", "camera_back",
                            "camera_left_back", "camera_right_back")
DOUBLE_RES_CAMERAS: tuple[str, ...] = ("camera_front", "camera_back")
RADARS: tuple[str, ...] = ("radar_front", "radar_left_front", "radar_right_front", "radar_back",
                           "radar_left_back", "radar_right_back")
REQUIRED_TABLES: tuple[str, ...] = ("sample", "sample_data", "ego_pose", "imu_data", "sensor_calibration",
                                    "scene_split")


@dataclass
class CameraCalib:
    """Intrinsics `K [3, 3]`, distortion `[5]` and camera→ego `[4, 4]` (OpenCV camera axes)."""

    K: np.ndarray
    dist: np.ndarray
    cam2ego: np.ndarray


@dataclass
class RadarSweep:
    """One radar sweep: file, radar→ego `[4, 4]`, ego→global at sweep time, ego velocity `[3]`, time (s)."""

    path: Path
    radar2ego: np.ndarray
    ego2global: np.ndarray
    ego_velocity: np.ndarray
    time_s: float


@dataclass
class SampleInfo:
    """Everything needed to load one sample (the devkit's info dict, typed)."""

    token: str
    scene: str
    frame_idx: int
    prev: str
    next: str
    time_s: float
    lidar_path: Path
    occ_path: Path
    ego2global: np.ndarray
    cameras: dict[str, tuple[Path, CameraCalib]] = field(default_factory=dict)
    radars: dict[str, list[RadarSweep]] = field(default_factory=dict)


def _load_json(path: Path) -> Any:
    if not path.is_file():
        raise FileNotFoundError(f"{path}: table not found (expected the OmniHD-Scenes {VERSION} layout)")
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: invalid JSON ({exc})") from exc


def _need(record: dict, keys: tuple[str, ...], where: str) -> None:
    if not isinstance(record, dict):
        raise ValueError(f"{where}: expected an object, got {type(record).__name__}")
    missing = [k for k in keys if k not in record]
    if missing:
        raise ValueError(f"{where}: missing field(s) {missing}")


class OmniHDTables:
    """The loaded tables of one dataset root, validated, with the devkit's reverse indexes."""

    def __init__(self, root: str | Path, version: str = VERSION) -> None:
        self.root = Path(root)
        self.table_root = self.root / version
        if not self.table_root.is_dir():
            raise FileNotFoundError(f"{self.table_root}: table folder not found under dataset root {self.root}")
        t = {name: _load_json(self.table_root / f"{name}.json") for name in REQUIRED_TABLES}
        self.split: dict[str, list[str]] = t["scene_split"]
        if not isinstance(self.split, dict):
            raise ValueError(f"{self.table_root / 'scene_split.json'}: expected an object of split -> scene tokens")
        self.samples: list[dict] = self._list(t, "sample", ("token", "scene_token", "prev", "next", "frame_idx"))
        self.sync: dict[str, dict] = {r["token"]: r for r in self._list(
            t, "sample_data", ("token", "prev", "lidar", "cameras", "radars", "ego_pose"))}
        self.poses = {f"{r['scene_token']}_{r['token']}": r for r in self._list(
            t, "ego_pose", ("scene_token", "token", "pose"))}
        self.imu = {f"{r['scene_token']}_{r['token']}": r for r in self._list(
            t, "imu_data", ("scene_token", "token", "velocity_ego"))}
        self.calib = {r["token"]: r["calib"] for r in self._list(t, "sensor_calibration", ("token", "calib"))}

    def _list(self, tables: dict[str, Any], name: str, keys: tuple[str, ...]) -> list[dict]:
        table = tables[name]
        where = self.table_root / f"{name}.json"
        if not isinstance(table, list):
            raise ValueError(f"{where}: expected a list of records, got {type(table).__name__}")
        for i, rec in enumerate(table):
            _need(rec, keys, f"{where} record {i}")
        return table

    def _lookup(self, table: dict, key: str, name: str) -> dict:
        if key not in table:
            raise ValueError(f"{self.table_root / (name + '.json')}: no record for {key!r}")
        return table[key]

    def scenes(self, split: str) -> list[str]:
        """Scene tokens of a split (`train`, `val`, `test`, or `all`)."""
        if split == "all":
            return sorted({s["scene_token"] for s in self.samples})
        if split not in self.split:
            raise ValueError(f"{self.table_root / 'scene_split.json'}: no split {split!r} (has {sorted(self.split)})")
        return list(self.split[split])

    def camera_calib(self, scene: str, cam: str) -> CameraCalib:
        where = f"{self.table_root / 'sensor_calibration.json'} scene {scene} {cam}"
        rec = self._lookup(self._lookup(self.calib, scene, "sensor_calibration"), cam, "sensor_calibration")
        _need(rec, ("intrinsic", "distortion", "camera2ego"), where)
        K = np.asarray(rec["intrinsic"], dtype=np.float64)
        K = K[:3, :3] if K.shape in ((3, 3), (4, 4), (3, 4)) else K
        dist = np.asarray(rec["distortion"], dtype=np.float64).reshape(-1)
        if K.shape != (3, 3):
            raise ValueError(f"{where}: intrinsic has shape {K.shape}, expected 3x3")
        if dist.size not in (4, 5, 8):
            raise ValueError(f"{where}: distortion has {dist.size} values, expected 4, 5 or 8 (OpenCV order)")
        dist = np.concatenate([dist, np.zeros(5)])[:5] if dist.size < 5 else dist[:5]
        return CameraCalib(K, dist, as_pose(rec["camera2ego"], where + " camera2ego"))

    def pose(self, scene: str, token: str) -> np.ndarray:
        rec = self._lookup(self.poses, f"{scene}_{token}", "ego_pose")
        return as_pose(rec["pose"], f"{self.table_root / 'ego_pose.json'} {scene}_{token}")

    def ego_velocity(self, scene: str, token: str) -> np.ndarray:
        rec = self._lookup(self.imu, f"{scene}_{token}", "imu_data")
        v = np.asarray(rec["velocity_ego"], dtype=np.float64).reshape(-1)
        if v.size != 3:
            raise ValueError(f"{self.table_root / 'imu_data.json'} {scene}_{token}: velocity_ego needs 3 values")
        return v

    def radar_sweeps(self, scene: str, sync_token: str, radar: str, num_sweeps: int) -> list[RadarSweep]:
        """`num_sweeps` sweeps, newest first, following `sample_data.prev`; at a clip start the oldest
        available sweep is repeated, as the devkit's converter does. A sweep's time is its file name
        (microseconds), as in the devkit."""
        calib = self._lookup(self.calib, scene, "sensor_calibration")
        rec = self._lookup(calib, radar, "sensor_calibration")
        radar2ego = as_pose(rec.get("radar2ego"), f"sensor_calibration {scene} {radar} radar2ego")
        sweeps: list[RadarSweep] = []
        token = sync_token
        while len(sweeps) < num_sweeps:
            sync = self._lookup(self.sync, token, "sample_data")
            if radar not in sync["radars"] or radar not in sync["ego_pose"]:
                raise ValueError(f"{self.table_root / 'sample_data.json'} {token}: no {radar} path or ego_pose")
            pose_token = sync["ego_pose"][radar]
            path = self.root / sync["radars"][radar]
            if not path.stem.isdigit():
                raise ValueError(f"{path}: radar file name must be its timestamp in microseconds")
            sweeps.append(RadarSweep(path, radar2ego, self.pose(scene, pose_token),
                                     self.ego_velocity(scene, pose_token), int(path.stem) * 1e-6))
            if sync["prev"]:
                token = sync["prev"]
        return sweeps

    def sample_info(self, sample: dict, num_radar_sweeps: int = 3) -> SampleInfo:
        """Resolve one `sample` record into paths, calibration and poses."""
        scene, token = sample["scene_token"], sample["token"]
        sync = self._lookup(self.sync, token, "sample_data")
        if LIDAR not in sync["lidar"]:
            raise ValueError(f"{self.table_root / 'sample_data.json'} {token}: no {LIDAR} path")
        lidar_rel = sync["lidar"][LIDAR]
        occ_rel = lidar_rel.replace(f"lidar/{LIDAR}", "occ_gt").replace(".bin", ".npz")
        info = SampleInfo(token=token, scene=scene, frame_idx=int(sample["frame_idx"]), prev=sample["prev"],
                          next=sample["next"], time_s=int(token) * 1e-6, lidar_path=self.root / lidar_rel,
                          occ_path=self.root / occ_rel, ego2global=self.pose(scene, sync["ego_pose"][LIDAR]))
        for cam in CAMERAS:
            if cam not in sync["cameras"]:
                raise ValueError(f"{self.table_root / 'sample_data.json'} {token}: no path for {cam}")
            info.cameras[cam] = (self.root / sync["cameras"][cam], self.camera_calib(scene, cam))
        for radar in RADARS:
            info.radars[radar] = self.radar_sweeps(scene, token, radar, num_radar_sweeps)
        return info
