"""Scene layouts: obstacles, human starts/goals and the robot's start/goal for each scenario.

``make_layout(cfg, rng)`` builds one scene; ``new_human_goal`` gives a human a new goal on arrival. Both
only draw from the scene's own ``numpy.random.Generator``, so a seed fixes the whole episode.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from sim.crowd.config import CrowdSimConfig
from sim.crowd.geometry import point_polygon_distance, rect_polygon

Rect = tuple[float, float, float, float]  # xmin, xmax, ymin, ymax
_TRIES = 2048
_BATCH = 32
_LAYOUT_STARTS = 20
"""fresh starts of a random obstacle layout before giving up"""


@dataclass
class SceneLayout:
    """One scene. Shapes: ``obstacles [O, 4, 2]``, ``human_pos/human_goal [H, 2]``, ``human_static [H]``."""

    obstacles: np.ndarray
    human_pos: np.ndarray
    human_goal: np.ndarray
    human_static: np.ndarray
    robot_pos: np.ndarray
    robot_goal: np.ndarray
    robot_theta: float
    goal_mode: str
    """how humans get new goals: 'circle' (across the circle), 'free' (anywhere free), 'regions'"""
    regions: list[Rect] = field(default_factory=list)
    replay_window: tuple[float, np.ndarray] | None = None
    """replay scenario: (start time in the file (s), indices of the replayed pedestrians [H])"""


class LayoutError(ValueError):
    """The scenario could not be laid out: the configuration is too crowded for its arena."""


def _clear_mask(p: np.ndarray, r: float, obstacles: np.ndarray, cfg: CrowdSimConfig, others: list[tuple],
                ) -> np.ndarray:
    """``[K]`` True where a disc (p, r), ``p [K, 2]``, is inside the walls, off the obstacles and ``others``
    ((q, r_q) discs)."""
    ok = np.all(np.abs(p) <= cfg.arena_half_size - r, axis=1)
    if len(obstacles):
        ok &= point_polygon_distance(p, obstacles).min(axis=1) >= r
    for q, rq in others:
        ok &= np.hypot(p[:, 0] - q[0], p[:, 1] - q[1]) >= r + rq
    return ok


def _clear(p: np.ndarray, r: float, obstacles: np.ndarray, cfg: CrowdSimConfig, others: list[tuple]) -> bool:
    return bool(_clear_mask(p[None], r, obstacles, cfg, others)[0])


def _free_point(rng: np.random.Generator, cfg: CrowdSimConfig, obstacles: np.ndarray, r: float,
                others: list[tuple], region: Rect | None = None) -> np.ndarray:
    """A uniformly drawn free spot (candidates are drawn and tested in batches of ``_BATCH``)."""
    h = cfg.arena_half_size
    x0, x1, y0, y1 = region if region is not None else (-h, h, -h, h)
    for _ in range(_TRIES // _BATCH):
        p = np.stack([rng.uniform(x0, x1, _BATCH), rng.uniform(y0, y1, _BATCH)], axis=1)
        ok = np.flatnonzero(_clear_mask(p, r, obstacles, cfg, others))
        if ok.size:
            return p[ok[0]]
    raise LayoutError(f"scenario {cfg.scenario!r}: no free spot for a disc of radius {r} m after {_TRIES} tries")


def _free_point_in_regions(rng: np.random.Generator, cfg: CrowdSimConfig, obstacles: np.ndarray, r: float,
                           others: list[tuple], regions: list[Rect], first: int) -> tuple[np.ndarray, int]:
    """A free spot in ``regions[first]``, or (when that region is full) in the next regions in turn;
    returns the spot and the index of its region."""
    for k in range(len(regions) - 1):
        i = (first + k) % len(regions)
        try:
            return _free_point(rng, cfg, obstacles, r, others, regions[i]), i
        except LayoutError:
            continue
    i = (first + len(regions) - 1) % len(regions)
    return _free_point(rng, cfg, obstacles, r, others, regions[i]), i


def _random_obstacles(cfg: CrowdSimConfig, rng: np.random.Generator) -> np.ndarray:
    """``n`` random boxes ``[n, 4, 2]`` keeping ``obstacle_gap`` between them. Boxes are placed one after another;
    when the ones placed leave no room for the next, the layout starts again (rejection sampling of the whole
    layout: a long run must not end on one unlucky draw)."""
    n = int(rng.integers(cfg.obstacle_num - cfg.obstacle_num_range, cfg.obstacle_num + cfg.obstacle_num_range + 1))
    for _ in range(_LAYOUT_STARTS):
        boxes = _place_boxes(cfg, rng, max(n, 0))
        if boxes is not None:
            return np.array([rect_polygon(*b) for b in boxes]).reshape(-1, 4, 2)
    raise LayoutError(f"could not place {n} obstacles with {cfg.obstacle_gap} m gaps in the "
                      f"{2 * cfg.arena_half_size} m arena ({_LAYOUT_STARTS} fresh starts)")


def _place_boxes(cfg: CrowdSimConfig, rng: np.random.Generator, n: int) -> np.ndarray | None:
    """``n`` boxes ``[n, 4]`` (cx, cy, w, d) placed greedily, or None when one finds no room."""
    h, gap = cfg.arena_half_size, cfg.obstacle_gap
    boxes = np.zeros((0, 4))
    for _ in range(n):
        for _ in range(_TRIES // _BATCH):  # candidates in batches; the first that keeps the gaps wins
            wd = np.clip(rng.normal(cfg.obstacle_size_mean, cfg.obstacle_size_std, (_BATCH, 2)),
                         cfg.obstacle_size_min, min(cfg.obstacle_size_max, 2 * h))
            c = rng.uniform(-h + wd / 2, h - wd / 2)
            apart = ((np.abs(c[:, None, 0] - boxes[None, :, 0]) * 2 >= wd[:, None, 0] + boxes[None, :, 2] + 2 * gap)
                     | (np.abs(c[:, None, 1] - boxes[None, :, 1]) * 2 >= wd[:, None, 1] + boxes[None, :, 3] + 2 * gap))
            ok = np.flatnonzero(apart.all(axis=1))
            if ok.size:
                boxes = np.concatenate([boxes, np.concatenate([c[ok[0]], wd[ok[0]]])[None]])
                break
        else:
            return None
    return boxes


def _humans_on_circle(cfg: CrowdSimConfig, rng: np.random.Generator, obstacles: np.ndarray, n: int,
                      others: list[tuple]) -> tuple[list[np.ndarray], list[np.ndarray]]:
    r = cfg.human_radius + 0.1
    starts, goals = [], []
    for _ in range(n):
        for _ in range(_TRIES // _BATCH):  # candidates in batches: start on the circle, goal across it
            a = rng.uniform(0, 2 * np.pi, _BATCH)
            p = cfg.circle_radius * np.stack([np.cos(a), np.sin(a)], axis=1) + rng.uniform(-0.25, 0.25, (_BATCH, 2))
            ok = np.flatnonzero(_clear_mask(p, r, obstacles, cfg, others) & _clear_mask(-p, r, obstacles, cfg, []))
            if ok.size:
                p, g = p[ok[0]], -p[ok[0]]
                break
        else:  # the circle is blocked: fall back to any free start and goal
            p = _free_point(rng, cfg, obstacles, r, others)
            g = _free_point(rng, cfg, obstacles, r, [])
        starts.append(p)
        goals.append(g)
        others.append((p, r + cfg.human_radius))
    return starts, goals


def robot_start_goal(cfg: CrowdSimConfig, rng: np.random.Generator, obstacles: np.ndarray,
                     start_region: Rect | None = None, goal_region: Rect | None = None,
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Free robot start and goal: inside the given regions, else ``goal_distance_min…max`` apart."""
    r = cfg.robot_radius + 0.1
    for _ in range(_TRIES):
        s = _free_point(rng, cfg, obstacles, r, [], start_region)
        if goal_region is not None:
            return s, _free_point(rng, cfg, obstacles, r, [], goal_region)
        dist = rng.uniform(cfg.goal_distance_min, cfg.goal_distance_max)
        a = rng.uniform(0, 2 * np.pi)
        g = s + dist * np.array([np.cos(a), np.sin(a)])
        if _clear(g, r, obstacles, cfg, []):
            return s, g
    raise LayoutError(f"scenario {cfg.scenario!r}: no free robot start/goal {cfg.goal_distance_min}–"
                      f"{cfg.goal_distance_max} m apart")


def _counts(cfg: CrowdSimConfig, rng: np.random.Generator) -> tuple[int, int]:
    moving = int(rng.integers(cfg.human_num - cfg.human_num_range, cfg.human_num + cfg.human_num_range + 1))
    static = int(rng.integers(cfg.static_human_num - cfg.static_human_range,
                              cfg.static_human_num + cfg.static_human_range + 1))
    return max(moving, 0), max(static, 0)


def _finish(cfg: CrowdSimConfig, rng: np.random.Generator, obstacles: np.ndarray,
            robot: tuple[np.ndarray, np.ndarray], starts: list[np.ndarray], goals: list[np.ndarray], n_static: int,
            others: list[tuple], goal_mode: str, regions: list[Rect] | None = None) -> SceneLayout:
    """Add ``n_static`` standing humans and assemble the layout."""
    r = cfg.human_radius + 0.1
    statics = [_free_point(rng, cfg, obstacles, r, others) for _ in range(n_static)]
    for p in statics:
        others.append((p, r + cfg.human_radius))
    pos = np.array(starts + statics).reshape(-1, 2)
    goal = np.array(goals + statics).reshape(-1, 2)
    static = np.array([False] * len(starts) + [True] * len(statics), dtype=bool)
    return SceneLayout(obstacles.reshape(-1, 4, 2), pos, goal, static, robot[0], robot[1],
                       float(rng.uniform(-np.pi, np.pi)), goal_mode, regions or [])


def _robot_discs(cfg: CrowdSimConfig, s: np.ndarray, g: np.ndarray) -> list[tuple]:
    gap = cfg.robot_radius + cfg.human_radius + 0.3
    return [(s, gap), (g, gap)]


def _layout_random(cfg: CrowdSimConfig, rng: np.random.Generator) -> SceneLayout:
    """HEIGHT's default: random boxes, humans crossing a circle, standing humans anywhere."""
    obstacles = _random_obstacles(cfg, rng) if cfg.scenario == "random" else np.zeros((0, 4, 2))
    s, g = robot_start_goal(cfg, rng, obstacles)
    n_move, n_static = _counts(cfg, rng)
    others = _robot_discs(cfg, s, g)
    starts, goals = _humans_on_circle(cfg, rng, obstacles, n_move, others)
    return _finish(cfg, rng, obstacles, (s, g), starts, goals, n_static, others,
                   "free" if len(obstacles) else "circle")


def _layout_regions(cfg: CrowdSimConfig, rng: np.random.Generator, obstacles: np.ndarray,
                    regions: list[Rect], robot_regions: tuple[int, int] | None) -> SceneLayout:
    if robot_regions is None:
        s, g = robot_start_goal(cfg, rng, obstacles)
    else:
        s, g = robot_start_goal(cfg, rng, obstacles, regions[robot_regions[0]], regions[robot_regions[1]])
    n_move, n_static = _counts(cfg, rng)
    others = _robot_discs(cfg, s, g)
    r = cfg.human_radius + 0.1
    starts, goals = [], []
    for _ in range(n_move):
        i = int(rng.integers(len(regions)))
        j = (i + 1 + int(rng.integers(len(regions) - 1))) % len(regions)
        p, k = _free_point_in_regions(rng, cfg, obstacles, r, others, regions, i)
        j = i if k == j else j  # the start moved to the goal's region: walk to the first choice instead
        starts.append(p)
        goals.append(_free_point(rng, cfg, obstacles, r, [], regions[j]))
        others.append((p, r + cfg.human_radius))
    return _finish(cfg, rng, obstacles, (s, g), starts, goals, n_static, others, "regions", regions)


def _layout_hallway(cfg: CrowdSimConfig, rng: np.random.Generator) -> SceneLayout:
    """A 3 m wide hallway along x with benches on its sides; people walk end to end."""
    h = cfg.arena_half_size
    walls = [rect_polygon(0.0, (h + 1.5) / 2, 2 * h, h - 1.5), rect_polygon(0.0, -(h + 1.5) / 2, 2 * h, h - 1.5)]
    benches = [rect_polygon(x, y, 1.2, 0.4) for x, y in ((-2.5, 1.25), (0.5, -1.25), (2.5, 1.25))]
    obstacles = np.array(walls + benches)
    regions = [(-h + 0.3, -h + 3.0, -1.2, 1.2), (h - 3.0, h - 0.3, -1.2, 1.2)]
    return _layout_regions(cfg, rng, obstacles, regions, (0, 1))


def _layout_corridor(cfg: CrowdSimConfig, rng: np.random.Generator) -> SceneLayout:
    """A 2 m wide corridor along x; people come head-on from both ends."""
    h = cfg.arena_half_size
    obstacles = np.array([rect_polygon(0.0, (h + 1.0) / 2, 2 * h, h - 1.0),
                          rect_polygon(0.0, -(h + 1.0) / 2, 2 * h, h - 1.0)])
    regions = [(-h + 0.3, -h + 3.3, -0.7, 0.7), (h - 3.3, h - 0.3, -0.7, 0.7)]
    return _layout_regions(cfg, rng, obstacles, regions, (0, 1))


def _layout_lounge(cfg: CrowdSimConfig, rng: np.random.Generator) -> SceneLayout:
    """A room with sofas, tables and plants; people walk between its four corners."""
    furniture = [
        (-3.0, 2.8, 2.0, 0.8), (-3.0, 1.2, 1.0, 1.0),  # sofa + coffee table
        (2.8, 3.0, 0.8, 2.0), (1.4, 3.0, 1.0, 1.0),  # sofa + coffee table
        (0.0, 0.0, 1.2, 1.2),  # central table
        (-2.5, -2.5, 1.6, 0.8), (2.5, -2.2, 0.9, 0.9),  # desk, armchair
        (4.6, -4.6, 0.4, 0.4),  # plant
    ]
    obstacles = np.array([rect_polygon(*f) for f in furniture])
    h = cfg.arena_half_size - 0.3
    c = 2.5
    regions = [(-h, -h + c, -h, -h + c), (h - c, h, -h, -h + c), (h - c, h, h - c, h), (-h, -h + c, h - c, h)]
    return _layout_regions(cfg, rng, obstacles, regions, None)


LAYOUTS: dict[str, Callable[[CrowdSimConfig, np.random.Generator], SceneLayout]] = {
    "random": _layout_random,
    "circle_crossing": _layout_random,
    "hallway": _layout_hallway,
    "lounge": _layout_lounge,
    "corridor": _layout_corridor,
}


def make_layout(cfg: CrowdSimConfig, rng: np.random.Generator) -> SceneLayout:
    """Lay out one scene of ``cfg.scenario`` (not 'replay', which is built from its file)."""
    return LAYOUTS[cfg.scenario](cfg, rng)


def new_human_goal(cfg: CrowdSimConfig, layout: SceneLayout, rng: np.random.Generator, pos: np.ndarray,
                   ) -> np.ndarray:
    """A new goal for a human that reached its goal at ``pos [2]``."""
    r = cfg.human_radius + 0.1
    if layout.goal_mode == "circle":
        a = rng.uniform(0, 2 * np.pi)
        return cfg.circle_radius * np.array([np.cos(a), np.sin(a)])
    if layout.goal_mode == "regions":
        inside = [i for i, (x0, x1, y0, y1) in enumerate(layout.regions) if x0 <= pos[0] <= x1 and y0 <= pos[1] <= y1]
        choices = [i for i in range(len(layout.regions)) if i not in inside]
        i = choices[int(rng.integers(len(choices)))]
        return _free_point(rng, cfg, layout.obstacles, r, [], layout.regions[i])
    return _free_point(rng, cfg, layout.obstacles, r, [])
