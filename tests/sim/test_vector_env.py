"""The batched VectorEnv: equals single envs, next-step autoreset, ``info["episode"]``."""

from __future__ import annotations

import gymnasium as gym
import numpy as np

import sim.crowd  # noqa: F401
from sim.crowd.config import CrowdSimConfig
from sim.crowd.env import CrowdNavEnv
from sim.crowd.vector_env import CrowdNavVectorEnv

# short episodes so that every scene ends and autoresets within the test
CFG = CrowdSimConfig(time_limit=3.0)


def test_vector_env_equals_single_envs_across_autoreset():
    n, steps = 3, 45  # episodes last 20 steps: two autoresets per scene
    venv = CrowdNavVectorEnv(n, config=CFG)
    envs = [CrowdNavEnv(CFG) for _ in range(n)]
    vobs, _ = venv.reset(seed=10)
    sobs = [e.reset(seed=10 + i)[0] for i, e in enumerate(envs)]
    rng = np.random.default_rng(0)
    needs_reset = [False] * n
    resets = 0
    for _ in range(steps):
        acts = rng.integers(9, size=n)
        vobs, vr, vterm, vtrunc, vinfo = venv.step(acts)
        for i, e in enumerate(envs):
            if needs_reset[i]:  # next-step autoreset: reset, reward 0, not done
                sobs[i], _ = e.reset()
                r, term, trunc = 0.0, False, False
                needs_reset[i] = False
                resets += 1
            else:
                sobs[i], r, term, trunc, info = e.step(acts[i])
                needs_reset[i] = term or trunc
                if term or trunc:
                    assert vinfo["_episode"][i]
                    assert vinfo["episode"]["r"][i] == info["metrics"]["return"]
                    assert vinfo["episode"]["l"][i] == info["metrics"]["length"]
            for k in vobs:
                np.testing.assert_array_equal(vobs[k][i], sobs[i][k])
            assert (vr[i], vterm[i], vtrunc[i]) == (r, term, trunc)
    assert resets >= n


def test_autoreset_and_episode_info():
    n = 4
    venv = CrowdNavVectorEnv(n, config=CFG)
    obs, _ = venv.reset(seed=0)
    assert venv.observation_space.contains(obs)
    done_prev = np.zeros(n, dtype=bool)
    seen_episode = False
    for _ in range(25):
        obs, r, term, trunc, info = venv.step(np.full(n, 4))
        assert venv.observation_space.contains(obs)
        # a scene that ended at the previous step was reset: reward 0, not done, fresh time
        assert np.all(r[done_prev] == 0.0) and not np.any((term | trunc)[done_prev])
        assert np.all(venv.batch.steps[done_prev] == 0)
        done = term | trunc
        if done.any():
            seen_episode = True
            ep = info["episode"]
            np.testing.assert_array_equal(info["_episode"], done)
            assert np.all(ep["l"][done] > 0) and np.all(ep["t"][done] == ep["l"][done] * CFG.dt)
            assert set(info["outcome"][done]) <= {"success", "collision_human", "collision_obstacle",
                                                   "collision_wall", "timeout"}
        done_prev = done
    assert seen_episode


def test_make_vec_and_sync_vector_env():
    v = gym.make_vec("pernav/CrowdNav-v0", num_envs=2, vectorization_mode="vector_entry_point")
    assert isinstance(v.unwrapped, CrowdNavVectorEnv) and v.num_envs == 2
    obs, _ = v.reset(seed=0)
    s = gym.vector.SyncVectorEnv([lambda: gym.make("pernav/CrowdNav-v0")] * 2)
    sobs, _ = s.reset(seed=0)
    for k in obs:
        np.testing.assert_array_equal(obs[k], sobs[k])
    v.close()
    s.close()


def test_reset_accepts_one_seed_per_scene():
    n = 3
    venv = CrowdNavVectorEnv(n, config=CFG)
    obs_int, _ = venv.reset(seed=7)
    obs_list, _ = venv.reset(seed=[7, 8, 9])
    for key in obs_int:
        np.testing.assert_array_equal(obs_int[key], obs_list[key])
    obs_other, _ = venv.reset(seed=[9, 8, 7])
    assert not np.array_equal(obs_other["robot_node"], obs_int["robot_node"])
    venv.close()


def _assert_same_info(a: dict, b: dict, path: str = "info") -> None:
    """Equal keys, dtypes and values (recursively), as a Sync/AsyncVectorEnv lays infos out."""
    assert set(a) == set(b), f"{path}: {sorted(a)} != {sorted(b)}"
    for k in a:
        if isinstance(a[k], dict):
            _assert_same_info(a[k], b[k], f"{path}[{k!r}]")
        else:
            assert a[k].dtype == b[k].dtype, f"{path}[{k!r}]: {a[k].dtype} != {b[k].dtype}"
            np.testing.assert_array_equal(a[k], b[k], err_msg=f"{path}[{k!r}]")


def test_native_infos_equal_sync_vector_env_infos():
    """The native vector env reports steps and finished episodes exactly as SyncVectorEnv of single envs."""
    n = 3
    native = CrowdNavVectorEnv(n, config=CFG)
    sync = gym.vector.SyncVectorEnv([lambda: CrowdNavEnv(CFG)] * n)
    _, ia = native.reset(seed=3)
    _, ib = sync.reset(seed=3)
    _assert_same_info(ia, ib)
    rng = np.random.default_rng(1)
    ended = 0
    for _ in range(45):
        acts = rng.integers(9, size=n)
        *_, term, trunc, ia = native.step(acts)
        *_, term_b, trunc_b, ib = sync.step(acts)
        np.testing.assert_array_equal(term, term_b)
        np.testing.assert_array_equal(trunc, trunc_b)
        _assert_same_info(ia, ib)
        done = term | trunc
        if done.any():
            ended += int(done.sum())
            np.testing.assert_array_equal(ia["_metrics"], done)
            np.testing.assert_array_equal(ia["_episode"], done)
            m, ep = ia["metrics"], ia["episode"]
            assert set(m) >= {"outcome", "return", "length", "time", "path_length", "intrusion_ratio",
                              "min_distance"}
            assert set(ep) >= {"r", "l", "t"}
            np.testing.assert_array_equal(ep["r"][done], m["return"][done])
            np.testing.assert_array_equal(ep["l"][done], m["length"][done])
            np.testing.assert_allclose(ep["t"][done], m["length"][done] * CFG.dt)
            assert all(o != "running" for o in m["outcome"][done])
    assert ended >= n  # every scene finished at least one episode
    sync.close()
