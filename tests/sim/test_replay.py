"""ETH/UCY replay: loader, interpolation, homography, errors and the replay scenario."""

from __future__ import annotations

import numpy as np
import pytest

from sim.crowd.config import CrowdSimConfig
from sim.crowd.env import CrowdNavEnv
from sim.crowd.registration import PRESETS
from sim.crowd.replay import ReplayTracks, load_replay, read_eth_ucy, write_synthetic_eth_ucy

REPLAY = PRESETS["pernav/CrowdNavReplay-v0"]


def _write(path, rows):
    path.write_text("".join(f"{f}\t{p}\t{x}\t{y}\n" for f, p, x, y in rows))
    return path


def test_loader_and_interpolation(tmp_path):
    # ped 1 walks +x at 1 m/s for frames 0..40 (step 10 → 0.4 s); ped 2 appears at frame 20
    rows = [(10 * k, 1, 0.4 * k, 0.0) for k in range(5)] + [(20, 2, 5.0, 1.0), (30, 2, 5.0, 1.4)]
    tr = ReplayTracks.from_rows(read_eth_ucy(_write(tmp_path / "a.txt", rows)), fps=2.5)
    assert tr.pos.shape == (2, 5, 2) and tr.duration == pytest.approx(1.6)
    pos, vel, present = tr.sample(np.array([0, 1]), 0.1)  # between frames 0 and 10
    assert present.tolist() == [True, False]
    assert vel[0] == pytest.approx([1.0, 0.0])
    # re-centred on the bounding box (x 0..5, y 0..1.4): ped 1 at x = 0.1 − 2.5
    assert pos[0] == pytest.approx([0.1 - 2.5, -0.7])
    pos, vel, present = tr.sample(np.array([1]), 1.0)  # halfway between frames 20 and 30
    assert present[0] and pos[0] == pytest.approx([2.5, 1.2 - 0.7]) and vel[0] == pytest.approx([0.0, 1.0])


def test_gaps_inside_a_track_are_interpolated(tmp_path):
    rows = [(10 * k, 1, 0.0, float(k)) for k in range(4)] + [(0, 2, 0.0, 0.0), (30, 2, 3.0, 0.0)]
    tr = ReplayTracks.from_rows(read_eth_ucy(_write(tmp_path / "g.txt", rows)), fps=2.5)
    assert tr.present.all()
    assert tr.pos[1, :, 0] - tr.pos[1, 0, 0] == pytest.approx([0.0, 1.0, 2.0, 3.0])


def test_homography_is_applied(tmp_path):
    f = _write(tmp_path / "h.txt", [(0, 1, 10.0, 20.0)])
    h = tmp_path / "H.txt"
    h.write_text("0.5 0 1\n0 0.25 -2\n0 0 1\n")
    rows = read_eth_ucy(f, np.loadtxt(h))
    assert rows[0, 2:] == pytest.approx([6.0, 3.0])


@pytest.mark.parametrize(
    ("text", "match"),
    [("0 1 2.0\n", r"bad\.txt:1: 3 columns"), ("0 1 2.0 x\n", r"bad\.txt:1: not a number"), ("", "no annotations")],
)
def test_bad_files_name_the_line(tmp_path, text, match):
    p = tmp_path / "bad.txt"
    p.write_text(text)
    with pytest.raises(ValueError, match=match):
        read_eth_ucy(p)


def test_missing_file_and_bad_homography(tmp_path):
    with pytest.raises(ValueError, match="no such file"):
        load_replay(REPLAY.override(replay_file=str(tmp_path / "nope.txt")))
    f = write_synthetic_eth_ucy(tmp_path / "t.txt")
    (tmp_path / "H.txt").write_text("1 2\n3 4\n")
    with pytest.raises(ValueError, match="3×3"):
        load_replay(REPLAY.override(replay_file=str(f), replay_homography=str(tmp_path / "H.txt")))


def test_replay_env_follows_tracks(tmp_path):
    f = write_synthetic_eth_ucy(tmp_path / "t.txt", num_peds=10, seed=1)
    env = CrowdNavEnv(REPLAY.override(replay_file=str(f)))
    env.reset(seed=0)
    b, scene = env.batch, env.batch.replay
    lay = b.layouts[0]
    for k in range(1, 30):
        _, _, term, trunc, _ = env.step(4)
        if term or trunc:
            break
        pos, _, present = scene.sample(lay, k * b.cfg.dt)
        nh = len(pos)
        np.testing.assert_allclose(b.human_pos[0, :nh][present], pos[present])
        assert (b.human_valid[0, :nh] == present).all()


def test_replayed_humans_switch_to_orca_near_the_robot(tmp_path):
    f = write_synthetic_eth_ucy(tmp_path / "t.txt", num_peds=10, seed=1)
    env = CrowdNavEnv(REPLAY.override(replay_file=str(f), replay_reactive_dist=100.0))
    env.reset(seed=0)
    env.step(4)
    b = env.batch
    assert not b.human_replayed[0][b.human_valid[0]].any()  # everyone visible is now an ORCA agent


def test_arena_too_small_for_tracks(tmp_path):
    f = write_synthetic_eth_ucy(tmp_path / "t.txt", half_extent=8.0)
    with pytest.raises(ValueError, match="arena_half_size"):
        CrowdNavEnv(CrowdSimConfig(scenario="replay", replay_file=str(f), obstacle_num=0, obstacle_num_range=0,
                                   arena_half_size=6.0))
