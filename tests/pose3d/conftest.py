"""A test rig shared by the pose tests: four 640×480 cameras with lens distortion on a 4 m ring, 1.5 m up,
looking at (0, 0, 0.9 m) (world in mm, z up)."""

from __future__ import annotations

import numpy as np
import pytest

from perception.geometry.camera import Camera


@pytest.fixture
def ring_cameras() -> list[Camera]:
    cams = []
    for i in range(4):
        a = np.pi / 2 * i + 0.3
        c = np.array([4000 * np.cos(a), 4000 * np.sin(a), 1500.0])
        z = -c + [0, 0, 900]
        z /= np.linalg.norm(z)
        x = np.cross(z, [0, 0, 1.0])
        x /= np.linalg.norm(x)
        R = np.stack([x, np.cross(z, x), z])
        K = np.array([[600.0, 0, 320], [0, 600, 240], [0, 0, 1]])
        cams.append(Camera(K, np.array([-0.2, 0.05, 0, 0, 0]), R, -R @ c, 640, 480))
    return cams
