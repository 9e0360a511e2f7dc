"""Global navigation function: geodesic distance to the goal around static obstacles."""

from __future__ import annotations

import numpy as np

from navigation.baselines.navigation_function import BLOCKED, NavigationField


def test_open_arena_is_euclidean_distance():
    field = NavigationField(1, half=4.5, inflate=0.2)
    goal = np.array([1.0, -2.0])
    field.rebuild(0, np.zeros((0, 4, 2)), goal)
    pts = np.array([[[-3.0, 3.0], [0.0, 0.0], [2.5, 1.5], [1.05, -2.0]]])
    np.testing.assert_allclose(field(pts)[0], np.linalg.norm(pts[0] - goal, axis=-1), atol=0.06)


def test_wall_between_robot_and_goal_is_walked_around():
    """A 0.2 m thick wall x ∈ [-0.1, 0.1], y ∈ [-3, 3] between (-2, 0) and the goal (2, 0): the way round the
    end at y = 3 (inflated by the 0.2 m robot radius to the corner (±0.3, 3.2)) is
    |(-2,0)→(-0.3,3.2)| + 0.6 + |(0.3,3.2)→(2,0)| = 2 · 3.6235 + 0.6 = 7.85 m, not the straight 4 m."""
    field = NavigationField(1, half=4.5, inflate=0.2)
    wall = np.array([[[-0.1, -3.0], [0.1, -3.0], [0.1, 3.0], [-0.1, 3.0]]])
    field.rebuild(0, wall, np.array([2.0, 0.0]))
    d = field(np.array([[[-2.0, 0.0], [0.0, 0.0], [2.0, 0.5]]]))[0]
    assert abs(d[0] - 7.85) < 0.15, d
    assert d[1] >= BLOCKED  # inside the wall
    assert abs(d[2] - 0.5) < 0.06


def test_descending_the_field_goes_round_the_wall():
    """Greedy steps down the field from behind the wall end at the goal without touching the wall."""
    field = NavigationField(1, half=4.5, inflate=0.2)
    wall = np.array([[[-0.1, -3.0], [0.1, -3.0], [0.1, 3.0], [-0.1, 3.0]]])
    goal = np.array([2.0, 0.0])
    field.rebuild(0, wall, goal)
    p = np.array([-2.0, 0.0])
    dirs = np.stack([np.cos(np.linspace(0, 2 * np.pi, 32, endpoint=False)),
                     np.sin(np.linspace(0, 2 * np.pi, 32, endpoint=False))], axis=-1)
    for _ in range(200):
        cand = p + 0.1 * dirs
        p = cand[field(cand[None])[0].argmin()]
        assert not (abs(p[0]) < 0.1 + 0.2 - 1e-9 and abs(p[1]) < 3.0 + 0.2 - 1e-9)
        if np.linalg.norm(p - goal) < 0.15:
            break
    assert np.linalg.norm(p - goal) < 0.15, p


def test_clearance_is_the_distance_to_the_nearest_obstacle_or_wall():
    """Same wall: clearance is the distance to its nearest edge or corner, or to the arena wall, 0 inside."""
    field = NavigationField(1, half=4.5, inflate=0.2)
    wall = np.array([[[-0.1, -3.0], [0.1, -3.0], [0.1, 3.0], [-0.1, 3.0]]])
    field.rebuild(0, wall, np.array([2.0, 0.0]))
    pts = np.array([[[-1.0, 0.0], [0.6, 3.4], [4.0, -1.0], [0.0, 1.0], [-2.0, -4.45]]])
    expected = [0.9, np.hypot(0.5, 0.4), 0.5, 0.0, 0.05]
    np.testing.assert_allclose(field.clearance_at(pts)[0], expected, atol=0.01)
    assert field.clearance_at(np.array([[[5.0, 0.0]]]))[0, 0] == 0.0  # outside the arena
