"""OmniHD-Scenes on-disk format constants, as the dataset's devkit reads them.

`sim` stands alone (it imports no `perception`), so the generator keeps its own copy of the format
facts; `tests/perception` checks that they agree with the loader's.
"""

from __future__ import annotations

VERSION = "v1.0-trainval"
LIDAR = "lidar_top_compensation"
CAMERAS: tuple[str, ...] = (
    "camera_front",
    "camera_left_front",
    "camera_right_front",
    "camera_back",
    "camera_left_back",
    "camera_right_back",
)
#: cameras stored at twice the resolution of the others; the devkit halves them at load time
DOUBLE_RES_CAMERAS: tuple[str, ...] = ("camera_front", "camera_back")
RADARS: tuple[str, ...] = (
    "radar_front",
    "radar_left_front",
    "radar_right_front",
    "radar_back",
    "radar_left_back",
    "radar_right_back",
)
#: 1..11; 0 is free space, 255 is ignored
CLASS_NAMES: tuple[str, ...] = (
    "car",
    "pedestrian",
    "rider",
    "large_vehicle",
    "cycle",
    "road_obstacle",
    "traffic_fence",
    "driveable_surface",
    "sidewalk",
    "vegetation",
    "manmade",
)
CLASS_ID: dict[str, int] = {name: i + 1 for i, name in enumerate(CLASS_NAMES)}
IGNORE = 255
#: [xmin, ymin, zmin, xmax, ymax, zmax] in metres, LiDAR frame (x forward, y left, z up)
OCC_RANGE: tuple[float, ...] = (-60.0, -40.0, -3.0, 60.0, 40.0, 5.0)
OCC_SIZE: tuple[int, int, int] = (240, 160, 16)
LIDAR_DIMS = 5
RADAR_DIMS = 8
TABLES: tuple[str, ...] = (
    "sample",
    "sample_data",
    "annotations",
    "ego_pose",
    "imu_data",
    "sensor_calibration",
    "scene_split",
    "meta",
)
