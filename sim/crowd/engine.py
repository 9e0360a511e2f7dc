"""Batched crowd-navigation state: ``B`` independent scenes stepped together in numpy.

``CrowdBatch`` is the single implementation behind ``CrowdNavEnv`` (B = 1) and ``CrowdNavVectorEnv``.
Each scene owns a ``numpy.random.Generator``, so a scene's episode depends only on its own seed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.crowd.config import CrowdSimConfig
from sim.crowd.geometry import lidar_scan, point_polygon_distance, wall_segments
from sim.crowd.observation import build_observation
from sim.crowd.orca import ObstacleEdges, orca_velocities
from sim.crowd.replay import ReplayScene
from sim.crowd.rewards import RUNNING, compute_reward
from sim.crowd.scenarios import SceneLayout, make_layout, new_human_goal
from sim.crowd.social_force import sample_segments, social_force_step
from sim.crowd.spaces import DISCRETE_ACTION_DELTAS


@dataclass
class StepInfo:
    """Per-scene results of a step, ``[B]`` arrays; ``episode_*`` are valid where ``done``."""

    outcome: np.ndarray
    min_human_distance: np.ndarray
    done: np.ndarray
    episode_return: np.ndarray
    episode_length: np.ndarray
    episode_time: np.ndarray
    path_length: np.ndarray
    intrusion_ratio: np.ndarray
    min_distance: np.ndarray


class CrowdBatch:
    """State of ``num_scenes`` scenes of one configuration.

    Arrays (world frame, m, rad, m/s): ``robot_pos [B, 2]``, ``robot_theta [B]``, ``robot_cmd [B, 2]``
    (desired (v, ω) or (vx, vy)), ``human_pos/human_vel/human_goal [B, H, 2]``, ``human_valid/human_static
    [B, H]``, ``human_v_pref [B, H]`` (preferred speeds), ``obstacles [B, O, 4, 2]`` with ``obstacle_valid [B, O]``.
    """

    def __init__(self, cfg: CrowdSimConfig, num_scenes: int, replay: ReplayScene | None = None) -> None:
        cfg.validate()
        if num_scenes < 1:
            raise ValueError(f"num_scenes={num_scenes}: need at least one scene")
        if cfg.scenario == "replay" and replay is None:
            raise ValueError("scenario 'replay' needs a ReplayScene (see sim.crowd.replay.load_replay)")
        self.cfg, self.n, self.replay = cfg, num_scenes, replay
        if replay is None:  # a dry run turns layouts that cannot be built into a construction-time error
            make_layout(cfg, np.random.default_rng(0))
        else:
            replay.check(cfg)
        b, h, o = num_scenes, cfg.max_humans, cfg.max_obstacles
        self.rngs = [np.random.default_rng() for _ in range(b)]
        self.layouts: list[SceneLayout | None] = [None] * b
        self.robot_pos = np.zeros((b, 2))
        self.robot_goal = np.zeros((b, 2))
        self.robot_theta = np.zeros(b)
        self.robot_cmd = np.zeros((b, 2))
        self.robot_visible = np.zeros(b, dtype=bool)
        self.human_pos = np.zeros((b, h, 2))
        self.human_vel = np.zeros((b, h, 2))
        self.human_goal = np.zeros((b, h, 2))
        self.human_v_pref = np.zeros((b, h))
        self.human_valid = np.zeros((b, h), dtype=bool)
        self.human_static = np.zeros((b, h), dtype=bool)
        self.human_replayed = np.zeros((b, h), dtype=bool)
        self.obstacles = np.zeros((b, o, 4, 2))
        self.obstacle_valid = np.zeros((b, o), dtype=bool)
        walls = wall_segments(cfg.arena_half_size)
        self._walls = np.broadcast_to(walls, (b, 4, 2, 2))
        self.edges = ObstacleEdges.from_polygons(self.obstacles, self.obstacle_valid, self._walls)
        self.seg_a = np.zeros((b, o * 4 + 4, 2))
        self.seg_b = np.zeros((b, o * 4 + 4, 2))
        self.seg_valid = np.zeros((b, o * 4 + 4), dtype=bool)  # rebuilt per scene at reset
        self.sf_points = np.zeros((b, 0, 2))
        self.sf_mask = np.zeros((b, 0), dtype=bool)
        self.steps = np.zeros(b, dtype=np.int64)
        self.goal_dist = np.zeros(b)
        self.ep_return = np.zeros(b)
        self.path_length = np.zeros(b)
        self.intrusions = np.zeros(b, dtype=np.int64)
        self.min_distance = np.full(b, np.inf)

    # ------------------------------------------------------------------ reset
    def reset_scenes(self, idx: np.ndarray | list[int], seeds: list[int | None] | None = None) -> None:
        """Start new episodes in scenes ``idx``; a seed re-creates that scene's generator."""
        cfg = self.cfg
        for k, i in enumerate(idx):
            seed = None if seeds is None else seeds[k]
            if seed is not None:
                self.rngs[i] = np.random.default_rng(seed)
            rng = self.rngs[i]
            lay = self.replay.layout(cfg, rng) if self.replay is not None else make_layout(cfg, rng)
            self._load_layout(i, lay)
            self.robot_visible[i] = rng.random() < cfg.robot_visible_prob
        self._refresh_static_geometry(idx)

    def _load_layout(self, i: int, lay: SceneLayout) -> None:
        cfg = self.cfg
        nh, no = len(lay.human_pos), len(lay.obstacles)
        if nh > cfg.max_humans:
            raise ValueError(f"scenario {cfg.scenario!r} produced {nh} humans > max_humans={cfg.max_humans}")
        if no > cfg.max_obstacles:
            raise ValueError(f"scenario {cfg.scenario!r} has {no} obstacles > max_obstacles={cfg.max_obstacles}")
        self.layouts[i] = lay
        self.robot_pos[i], self.robot_goal[i], self.robot_theta[i] = lay.robot_pos, lay.robot_goal, lay.robot_theta
        self.robot_cmd[i] = 0.0
        self.human_valid[i] = False
        self.human_valid[i, :nh] = True
        self.human_static[i] = False
        self.human_static[i, :nh] = lay.human_static
        self.human_pos[i] = 0.0
        self.human_pos[i, :nh] = lay.human_pos
        self.human_goal[i] = 0.0
        self.human_goal[i, :nh] = lay.human_goal
        self.human_vel[i] = 0.0
        self.human_v_pref[i] = cfg.human_v_pref
        self.human_replayed[i] = False
        if self.replay is not None:
            _, vel, present = self.replay.sample(lay, 0.0)
            self.human_replayed[i, :nh] = True
            self.human_vel[i, :nh] = vel
            self.human_valid[i, :nh] = present
        self.obstacles[i] = 0.0
        self.obstacles[i, :no] = lay.obstacles
        self.obstacle_valid[i] = False
        self.obstacle_valid[i, :no] = True
        self.steps[i] = 0
        self.goal_dist[i] = np.hypot(*(lay.robot_goal - lay.robot_pos))
        self.ep_return[i] = 0.0
        self.path_length[i] = 0.0
        self.intrusions[i] = 0
        self.min_distance[i] = np.inf

    def _refresh_static_geometry(self, idx: np.ndarray | list[int]) -> None:
        """Rebuild the ORCA edges, lidar segments (and social-force wall points) of scenes ``idx``."""
        idx = np.asarray(idx, dtype=np.int64)
        b = self.n
        a, valid, walls = self.obstacles[idx], self.obstacle_valid[idx], self._walls[idx]
        self.edges.assign_rows(idx, ObstacleEdges.from_polygons(a, valid, walls))
        self.seg_a[idx] = np.concatenate([a.reshape(len(idx), -1, 2), walls[:, :, 0]], axis=1)
        self.seg_b[idx] = np.concatenate([np.roll(a, -1, axis=2).reshape(len(idx), -1, 2), walls[:, :, 1]], axis=1)
        self.seg_valid[idx] = np.concatenate([np.repeat(valid, 4, axis=1), np.ones((len(idx), 4), dtype=bool)],
                                             axis=1)
        if self.cfg.human_policy == "social_force":
            pts = []
            for i in range(b):
                segs = np.stack([self.seg_a[i][self.seg_valid[i]], self.seg_b[i][self.seg_valid[i]]], axis=1)
                pts.append(np.concatenate(sample_segments(segs, self.cfg.social_force.resolution)))
            p = max(len(x) for x in pts)
            self.sf_points = np.zeros((b, p, 2))
            self.sf_mask = np.zeros((b, p), dtype=bool)
            for i, x in enumerate(pts):
                self.sf_points[i, : len(x)] = x
                self.sf_mask[i, : len(x)] = True

    # ------------------------------------------------------------------ step
    def robot_velocity(self) -> np.ndarray:
        """``[B, 2]`` world-frame robot velocity of the current command."""
        if self.cfg.holonomic:
            return self.robot_cmd.copy()
        v = self.robot_cmd[:, 0]
        return np.stack([v * np.cos(self.robot_theta), v * np.sin(self.robot_theta)], axis=-1)

    def apply_action(self, actions: np.ndarray) -> None:
        """Update the desired command from ``actions`` (``[B]`` indices or ``[B, 2]`` commands).

        During the first ``start_delay_steps`` steps of an episode actions are ignored and the command is 0.
        """
        cfg = self.cfg
        a = np.asarray(actions)
        if cfg.continuous_actions:
            cmd = a.reshape(self.n, 2).astype(np.float64)
        else:
            cmd = self.robot_cmd + DISCRETE_ACTION_DELTAS[a.reshape(self.n).astype(np.int64)]
        if cfg.holonomic:
            speed = np.hypot(cmd[:, 0], cmd[:, 1])
            cmd = cmd * np.minimum(1.0, cfg.v_max / np.maximum(speed, 1e-12))[:, None]
        else:
            cmd = np.stack([np.clip(cmd[:, 0], -cfg.v_max, cfg.v_max), np.clip(cmd[:, 1], -cfg.w_max, cfg.w_max)],
                           axis=-1)
        if cfg.start_delay_steps:
            cmd[self.steps < cfg.start_delay_steps] = 0.0
        self.robot_cmd = cmd

    def _human_velocities(self) -> tuple[np.ndarray, np.ndarray]:
        """New human (pos, vel) from ORCA or social force; the robot is an agent when visible."""
        cfg = self.cfg
        b, h = self.human_valid.shape
        moving = self.human_valid & ~self.human_static & ~self.human_replayed
        pos = np.concatenate([self.human_pos, self.robot_pos[:, None]], axis=1)
        vel = np.concatenate([self.human_vel, self.robot_velocity()[:, None]], axis=1)
        goal = np.concatenate([self.human_goal, self.robot_goal[:, None]], axis=1)
        active = np.concatenate([moving, np.zeros((b, 1), dtype=bool)], axis=1)
        seen = np.concatenate([self.human_valid, self.robot_visible[:, None]], axis=1)
        vpref = np.concatenate([self.human_v_pref, np.full((b, 1), cfg.human_v_pref)], axis=1)
        if cfg.human_policy == "orca":
            d = goal - pos
            dn = np.hypot(d[..., 0], d[..., 1])
            pref = d * np.minimum(1.0, vpref / np.maximum(dn, 1e-12))[..., None]
            pref[:, :h][self.human_static] = 0.0
            radius = np.concatenate(
                [np.full((b, h), cfg.human_radius), np.full((b, 1), cfg.robot_radius)], axis=1
            ) + cfg.orca_safety_space
            new_vel = orca_velocities(pos, vel, pref, radius, vpref, active, seen, self.edges, cfg.orca)
            new_pos = pos + np.where(active[..., None], new_vel * cfg.dt, 0.0)
        else:
            new_pos, new_vel = social_force_step(pos, vel, goal, vpref, active, seen, self.sf_points, self.sf_mask,
                                                 cfg.social_force)
        return new_pos[:, :h], new_vel[:, :h]

    def _executed_command(self, frozen: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """(v, ω) ``[B]`` the unicycle executes: the command, through noisy wheels when ``wheel_noise_std > 0``.

        (v, ω) → wheel speeds ``(v ∓ ω·L/2) / r`` (rad/s) + N(0, σ) each → back to (v, ω). Scenes still in the
        start delay do not move; ``frozen`` scenes draw no noise.
        """
        cfg = self.cfg
        v, w = self.robot_cmd[:, 0], self.robot_cmd[:, 1]
        if cfg.wheel_noise_std <= 0:
            return v, w
        half, r = cfg.wheel_base / 2, cfg.wheel_radius
        left, right = (v - w * half) / r, (v + w * half) / r
        moving = self.steps >= cfg.start_delay_steps
        if frozen is not None:
            moving &= ~frozen
        for i in np.flatnonzero(moving):
            noise = self.rngs[i].normal(0.0, cfg.wheel_noise_std, 2)
            left[i] += noise[0]
            right[i] += noise[1]
        return np.where(moving, r * (left + right) / 2, 0.0), np.where(moving, r * (right - left) / cfg.wheel_base, 0.0)

    def _move_robot(self, frozen: np.ndarray | None) -> None:
        cfg = self.cfg
        old = self.robot_pos.copy()
        if cfg.holonomic:
            self.robot_pos = self.robot_pos + self.robot_cmd * cfg.dt
            speed = np.hypot(self.robot_cmd[:, 0], self.robot_cmd[:, 1])
            heading = np.arctan2(self.robot_cmd[:, 1], self.robot_cmd[:, 0])
            self.robot_theta = np.where(speed > 1e-9, heading, self.robot_theta)
        else:
            v, w = self._executed_command(frozen)
            self.robot_theta = (self.robot_theta + w * cfg.dt + np.pi) % (2 * np.pi) - np.pi
            self.robot_pos = self.robot_pos + (v * cfg.dt)[:, None] * np.stack(
                [np.cos(self.robot_theta), np.sin(self.robot_theta)], axis=-1
            )
        self.path_length += np.hypot(*(self.robot_pos - old).T)

    def _new_goals(self, frozen: np.ndarray | None) -> None:
        cfg = self.cfg
        d = np.hypot(*(self.human_goal - self.human_pos).transpose(2, 0, 1))
        arrived = self.human_valid & ~self.human_static & ~self.human_replayed & (d < cfg.human_radius)
        if frozen is not None:
            arrived &= ~frozen[:, None]
        for i, j in zip(*np.nonzero(arrived), strict=True):
            if cfg.human_v_pref_change > 0:  # HEIGHT's random_v_pref, drawn before the new goal as there
                change = self.rngs[i].uniform(-cfg.human_v_pref_change, cfg.human_v_pref_change)
                self.human_v_pref[i, j] = max(self.human_v_pref[i, j] + change, 0.0)
            self.human_goal[i, j] = new_human_goal(cfg, self.layouts[i], self.rngs[i], self.human_pos[i, j])

    def step(self, actions: np.ndarray, frozen: np.ndarray | None = None) -> tuple[np.ndarray, StepInfo]:
        """Advance every scene by ``dt``; returns (reward ``[B]``, info). Does not reset finished scenes.

        ``frozen [B]`` marks scenes about to be reset: they draw no random numbers (so their next episode
        is the one a single env would get), and their results are meaningless.
        """
        cfg = self.cfg
        self.apply_action(actions)
        new_pos, new_vel = self._human_velocities()  # from the pre-move state, as CrowdNav
        self._move_robot(frozen)
        self.human_pos, self.human_vel = new_pos, new_vel
        if self.replay is not None:
            self._replay_humans()
        self._new_goals(frozen)
        self.steps += 1
        # collisions and distances after the move
        rel = self.human_pos - self.robot_pos[:, None]
        surface = np.hypot(rel[..., 0], rel[..., 1]) - cfg.robot_radius - cfg.human_radius
        surface = np.where(self.human_valid, surface, np.inf)
        d_min = surface.min(axis=1)
        if self.obstacle_valid.any():
            od = point_polygon_distance(self.robot_pos[:, None], self.obstacles)[:, 0]
            obstacle_dist = np.where(self.obstacle_valid, od, np.inf).min(axis=1)
        else:
            obstacle_dist = np.full(self.n, np.inf)
        hit_obs = obstacle_dist < cfg.robot_radius
        wall_dist = cfg.arena_half_size - np.abs(self.robot_pos).max(axis=1)
        hit_wall = wall_dist < cfg.robot_radius
        static_clearance = np.minimum(obstacle_dist, wall_dist) - cfg.robot_radius
        prev = self.goal_dist
        self.goal_dist = np.hypot(*(self.robot_goal - self.robot_pos).T)
        res = compute_reward(cfg, self.steps, d_min < 0, hit_obs, hit_wall, self.goal_dist, prev, d_min,
                             self.robot_cmd, static_clearance, self._future_overlap())
        self.ep_return += res.reward
        self.intrusions += d_min < cfg.discomfort_dist
        self.min_distance = np.minimum(self.min_distance, d_min)
        done = res.outcome != RUNNING
        info = StepInfo(
            outcome=res.outcome,
            min_human_distance=d_min,
            done=done,
            episode_return=self.ep_return.copy(),
            episode_length=self.steps.copy(),
            episode_time=self.steps * cfg.dt,
            path_length=self.path_length.copy(),
            intrusion_ratio=self.intrusions / np.maximum(self.steps, 1),
            min_distance=self.min_distance.copy(),
        )
        return res.reward, info

    def _future_overlap(self) -> np.ndarray:
        """``[B]`` first k in 1 … ``future_collision_steps`` at which a human, moving on at its current velocity
        for k·``future_collision_dt``, overlaps the robot where it stands now; 0 for none (or when off)."""
        cfg = self.cfg
        if cfg.future_collision_steps == 0:
            return np.zeros(self.n, dtype=int)
        k = np.arange(1, cfg.future_collision_steps + 1)
        ahead = self.human_pos[:, None] + (k * cfg.future_collision_dt)[None, :, None, None] * self.human_vel[:, None]
        rel = ahead - self.robot_pos[:, None, None]  # [B, K, H, 2]
        overlap = (np.hypot(rel[..., 0], rel[..., 1]) < cfg.robot_radius + cfg.human_radius) & self.human_valid[:, None]
        hit = overlap.any(axis=2)  # [B, K]
        return np.where(hit.any(axis=1), hit.argmax(axis=1) + 1, 0)

    def _replay_humans(self) -> None:
        """Replayed humans follow their tracks (and exist only while annotated); once the robot comes
        closer than ``replay_reactive_dist`` they switch to ORCA for the rest of the episode."""
        cfg = self.cfg
        for i in range(self.n):
            lay = self.layouts[i]
            nh = len(lay.human_pos)
            pos, vel, present = self.replay.sample(lay, float(self.steps[i] + 1) * cfg.dt)
            m = self.human_replayed[i, :nh]
            self.human_pos[i, :nh][m] = pos[m]
            self.human_vel[i, :nh][m] = vel[m]
            self.human_valid[i, :nh][m] = present[m]
            if cfg.replay_reactive_dist > 0:
                near = present & (np.hypot(*(pos - self.robot_pos[i]).T) < cfg.replay_reactive_dist)
                self.human_replayed[i, :nh] &= ~near

    # ------------------------------------------------------------------ observe
    def observe(self) -> dict[str, np.ndarray]:
        """Observation arrays ``[B, ...]`` of the current state (see ``spaces.py``)."""
        cfg = self.cfg
        lidar = lidar_scan(self.robot_pos, self.robot_theta, self.seg_a, self.seg_b, self.seg_valid,
                           cfg.lidar_rays, cfg.lidar_range)
        obs = build_observation(self.robot_pos, self.robot_theta, self.robot_velocity(), self.robot_goal,
                                self.human_pos, self.human_vel, self.human_valid, cfg.fov, cfg.sensor_range,
                                self.obstacles, self.obstacle_valid, lidar)
        if cfg.robot_node == "relative":  # HEIGHT's [gx − px, gy − py, θ]
            to_goal = (self.robot_goal - self.robot_pos).astype(np.float32)[:, None]
            obs["robot_node"] = np.concatenate([to_goal, obs["robot_node"][:, :, 4:5]], axis=2)
        return obs
