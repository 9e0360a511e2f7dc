"""Procedural people: a 20-joint articulated body and a walk/stand/gesture motion model (numpy only).

World frame: z up, millimetres, floor at z = 0. Joint order: Panoptic ``joints19`` (0 neck, 1 nose,
2 body centre, 3-5 left arm, 6-8 left leg, 9-11 right arm, 12-14 right leg, 15 l-eye, 16 l-ear,
17 r-eye, 18 r-ear) followed by 19 = top of the head and 20 = bottom of the head (for Shelf/Campus).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

NUM_BODY_JOINTS = 21
HEAD_TOP, HEAD_BOTTOM = 19, 20
#: Capsules drawn by the renderer: (joint a, joint b, radius mm, colour slot 0 shirt / 1 skin / 2 trousers).
BODY_PARTS = (
    (0, 2, 150.0, 0),
    (3, 9, 70.0, 0),
    (3, 4, 55.0, 0),
    (4, 5, 42.0, 1),
    (9, 10, 55.0, 0),
    (10, 11, 42.0, 1),
    (6, 12, 80.0, 2),
    (6, 7, 75.0, 2),
    (7, 8, 55.0, 2),
    (12, 13, 75.0, 2),
    (13, 14, 55.0, 2),
    (HEAD_BOTTOM, HEAD_TOP, 95.0, 1),
)


def _rot_z(yaw: float) -> np.ndarray:
    c, s = np.cos(yaw), np.sin(yaw)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def body_joints(
    scale: float,
    yaw: float,
    xy: np.ndarray,
    leg: tuple[float, float, float, float],
    arm: tuple[float, float, float, float],
    lean: float = 0.0,
) -> np.ndarray:
    """Joint positions of one posed body.

    Args:
        scale: body size (1 = 1.75 m tall).
        yaw: heading (rad) about z; the body faces local +x.
        xy: [2] floor position of the body centre (mm).
        leg: (left hip swing, left knee bend, right hip swing, right knee bend) in rad.
        arm: (left shoulder swing, left elbow bend, right shoulder swing, right elbow bend) in rad.
        lean: forward torso lean (rad).
    Returns:
        [21, 3] joints (mm), feet on the floor.
    """
    s = scale
    j = np.zeros((NUM_BODY_JOINTS, 3))
    thigh, shin, upper, fore = 430 * s, 420 * s, 290 * s, 260 * s
    for hip, knee, ankle, side, (swing, bend) in ((6, 7, 8, 1, leg[:2]), (12, 13, 14, -1, leg[2:])):
        j[hip] = [0, side * 100 * s, -30 * s]
        j[knee] = j[hip] + thigh * np.array([np.sin(swing), 0, -np.cos(swing)])
        j[ankle] = j[knee] + shin * np.array([np.sin(swing - bend), 0, -np.cos(swing - bend)])
    torso = np.array([np.sin(lean), 0, np.cos(lean)])
    j[0] = 500 * s * torso
    fwd = np.array([np.cos(lean), 0, -np.sin(lean)])
    up = torso
    for sho, elb, wri, side, (swing, bend) in ((3, 4, 5, 1, arm[:2]), (9, 10, 11, -1, arm[2:])):
        j[sho] = j[0] + np.array([0, side * 170 * s, 0]) - 30 * s * up
        d1 = np.array([np.sin(swing), side * 0.15, -np.cos(swing)])
        j[elb] = j[sho] + upper * d1 / np.linalg.norm(d1)
        d2 = np.array([np.sin(swing + bend), side * 0.1, -np.cos(swing + bend)])
        j[wri] = j[elb] + fore * d2 / np.linalg.norm(d2)
    j[1] = j[0] + s * (80 * fwd + 140 * up)  # nose halfway up the head
    for eye, ear, side in ((15, 16, 1), (17, 18, -1)):
        j[eye] = j[0] + s * (70 * fwd + 165 * up + side * 35 * np.array([0, 1, 0]))
        j[ear] = j[0] + s * (10 * fwd + 150 * up + side * 75 * np.array([0, 1, 0]))
    j[HEAD_TOP] = j[0] + s * (40 * fwd + 242 * up)
    j[HEAD_BOTTOM] = j[0] + s * (40 * fwd + 55 * up)
    j = j @ _rot_z(yaw).T
    j[:, :2] += xy
    j[:, 2] += -min(j[8, 2], j[14, 2]) + 80 * s  # ankles 8 cm above the floor
    return j


@dataclass
class Walker:
    """One person's motion state; :meth:`step` advances it by ``dt`` seconds."""

    xy: np.ndarray
    yaw: float
    scale: float
    speed: float = 1.0
    phase: float = 0.0
    turn: float = 0.0
    standing: bool = False
    gesture: float = 0.0
    colours: np.ndarray = field(default_factory=lambda: np.zeros((3, 3)))

    def step(self, dt: float, rng: np.random.Generator, bounds: np.ndarray, others: list[np.ndarray]) -> None:
        """Advance: OU turning, stop/start, gestures, steering away from the bounds and from others.

        Args:
            bounds: [2, 2] ((xmin, xmax), (ymin, ymax)) in mm.
            others: floor positions [2] of the other people.
        """
        if rng.random() < 0.01 * dt * 30:
            self.standing = not self.standing
        target_speed = 0.0 if self.standing else 1.1 * self.scale
        self.speed += (target_speed - self.speed) * min(1.0, 3 * dt)
        self.turn += -self.turn * dt + 0.8 * np.sqrt(dt) * rng.normal()
        heading = np.array([np.cos(self.yaw), np.sin(self.yaw)])
        steer = np.zeros(2)
        centre = bounds.mean(1)
        half = (bounds[:, 1] - bounds[:, 0]) / 2
        margin = np.abs(self.xy - centre) / half
        if margin.max() > 0.7:
            steer += (centre - self.xy) / np.linalg.norm(centre - self.xy) * (margin.max() - 0.7) * 8
        for o in others:
            d = self.xy - o
            dist = np.linalg.norm(d)
            if 1e-6 < dist < 1200:
                steer += d / dist * (1200 - dist) / 300
        desired = np.arctan2(*(heading + steer)[::-1])
        err = (desired - self.yaw + np.pi) % (2 * np.pi) - np.pi
        self.yaw += (self.turn + 2.5 * err * (np.linalg.norm(steer) > 0)) * dt
        self.xy = self.xy + 1000 * self.speed * dt * np.array([np.cos(self.yaw), np.sin(self.yaw)])
        self.phase += 2 * np.pi * self.speed * dt / 1.3
        g_target = 1.0 if (self.standing and rng.random() < 0.5) else 0.0
        self.gesture += (g_target - self.gesture) * min(1.0, 0.5 * dt)

    def joints(self, t: float) -> np.ndarray:
        """[21, 3] joints for the current state; ``t`` (s) drives idle motion."""
        amp = min(1.0, self.speed / 1.0)
        sw = 0.45 * amp * np.sin(self.phase)
        bend_l = 0.9 * amp * max(0.0, np.sin(self.phase + 1.2)) + 0.05
        bend_r = 0.9 * amp * max(0.0, np.sin(self.phase + 1.2 + np.pi)) + 0.05
        arm_sw = -0.4 * amp * np.sin(self.phase)
        raise_l = self.gesture * (1.6 + 0.4 * np.sin(2.1 * t))
        raise_r = self.gesture * 0.8 * (1 + np.sin(1.3 * t + self.scale * 7))
        leg = (sw, bend_l, -sw, bend_r)
        arm = (arm_sw + raise_l, 0.3 + 0.6 * self.gesture, -arm_sw + raise_r, 0.3 + 0.9 * self.gesture)
        return body_joints(self.scale, self.yaw, self.xy, leg, arm, lean=0.05 * amp)


def spawn_walkers(rng: np.random.Generator, count: int, bounds: np.ndarray) -> list[Walker]:
    """``count`` people at separated random places inside ``bounds`` [2, 2] (mm)."""
    walkers: list[Walker] = []
    while len(walkers) < count:
        xy = rng.uniform(bounds[:, 0] * 0.7 + bounds.mean(1) * 0.3, bounds[:, 1] * 0.7 + bounds.mean(1) * 0.3)
        if all(np.linalg.norm(xy - w.xy) > 900 for w in walkers):
            colours = rng.uniform(0.05, 0.95, (3, 3))
            colours[1] = np.array([0.85, 0.65, 0.5]) * rng.uniform(0.5, 1.1)
            walkers.append(
                Walker(
                    xy,
                    float(rng.uniform(-np.pi, np.pi)),
                    float(rng.uniform(0.88, 1.08)),
                    standing=bool(rng.random() < 0.25),
                    colours=np.clip(colours, 0, 1),
                )
            )
    return walkers
