"""A one-scene :class:`CrowdBatch` whose humans are stepped by ``pyrvo`` (RVO2's C++ ORCA).

Everything else (robot, lidar, observation, reward) is the same code as the numpy environments, so the
benchmark compares only how humans are stepped and batched. ``pyrvo`` is an optional dependency
(``pip install --no-deps pyrvo==0.4.3``).
"""

from __future__ import annotations

from types import ModuleType

import numpy as np

from sim.crowd.config import CrowdSimConfig
from sim.crowd.engine import CrowdBatch

_FAR = 1.0e4  # where an invisible robot is parked inside RVO2


def import_pyrvo() -> ModuleType:
    """The ``pyrvo`` module, or an ImportError that says how to install it."""
    try:
        import pyrvo
    except ImportError as exc:
        raise ImportError("pyrvo is not installed: pip install --no-deps pyrvo==0.4.3") from exc
    return pyrvo


class PyrvoCrowdBatch(CrowdBatch):
    """One scene; ORCA humans from ``pyrvo.RVOSimulator`` (rebuilt at every reset)."""

    def __init__(self, cfg: CrowdSimConfig) -> None:
        if cfg.human_policy != "orca" or cfg.scenario == "replay" or cfg.human_v_pref_change > 0:
            raise ValueError("PyrvoCrowdBatch steps ORCA humans of generated scenarios with a fixed v_pref only")
        super().__init__(cfg, 1)
        self._pyrvo = import_pyrvo()
        self.sim = None

    def reset_scenes(self, idx: np.ndarray | list[int], seeds: list[int | None] | None = None) -> None:
        super().reset_scenes(idx, seeds)
        cfg, p = self.cfg, self.cfg.orca
        sim = self._pyrvo.RVOSimulator(
            cfg.dt, p.neighbor_dist, p.max_neighbors, p.time_horizon, p.time_horizon_obst,
            cfg.human_radius + cfg.orca_safety_space, cfg.human_v_pref,
        )
        h = int(self.human_valid[0].sum())
        for j in range(h):
            sim.add_agent(tuple(self.human_pos[0, j]))
            if self.human_static[0, j]:
                sim.set_agent_max_speed(j, 0.0)
        sim.add_agent((_FAR, _FAR))
        sim.set_agent_radius(h, cfg.robot_radius + cfg.orca_safety_space)
        for poly in self.obstacles[0][self.obstacle_valid[0]]:
            sim.add_obstacle([tuple(p) for p in poly])
        for a, b in self._walls[0]:
            sim.add_obstacle([tuple(a), tuple(b)])
        sim.process_obstacles()
        self.sim, self._h = sim, h

    def _human_velocities(self) -> tuple[np.ndarray, np.ndarray]:
        cfg, sim, h = self.cfg, self.sim, self._h
        robot = tuple(self.robot_pos[0]) if self.robot_visible[0] else (_FAR, _FAR)
        sim.set_agent_position(h, robot)
        sim.set_agent_velocity(h, tuple(self.robot_velocity()[0]))
        sim.set_agent_pref_velocity(h, (0.0, 0.0))
        d = self.human_goal[0, :h] - self.human_pos[0, :h]
        dn = np.hypot(d[:, 0], d[:, 1])
        pref = d * np.minimum(1.0, cfg.human_v_pref / np.maximum(dn, 1e-12))[:, None]
        for j in range(h):
            sim.set_agent_pref_velocity(j, (0.0, 0.0) if self.human_static[0, j] else tuple(pref[j]))
        sim.do_step()
        pos, vel = self.human_pos.copy(), self.human_vel.copy()
        for j in range(h):
            pos[0, j] = sim.get_agent_position(j).to_tuple()
            vel[0, j] = sim.get_agent_velocity(j).to_tuple()
        return pos, vel
