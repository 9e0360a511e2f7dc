"""Policy networks: padding never matters, every branch learns, GRU resets, ablation switches."""

from __future__ import annotations

import dataclasses

import gymnasium as gym
import numpy as np
import pytest
import torch

import sim.crowd  # noqa: F401
from navigation.config import NetworkConfig
from navigation.networks import build_policy
from navigation.observation import KEYS, to_tensors
from sim.crowd.spaces import PAD_VALUE, observation_space

NETWORKS = ["height", "homogeneous", "dsrnn"]


def real_observations(env_id: str, batch: int, steps: int, seed: int = 0) -> dict[str, torch.Tensor]:
    """``[batch, steps, ...]`` observations from real episodes with random actions."""
    env = gym.make(env_id)
    rows = []
    for b in range(batch):
        obs, _ = env.reset(seed=seed + b)
        seq = [obs]
        for _ in range(steps - 1):
            obs, *_ = env.step(env.action_space.sample())
            seq.append(obs)
        rows.append({k: np.stack([o[k] for o in seq]) for k in KEYS if k != "robot_command"})
    env.close()
    batched = {k: np.stack([r[k] for r in rows]) for k in rows[0]}
    command = np.random.default_rng(seed).uniform(-0.5, 0.5, (batch, steps, 1, 2))  # as CommandTracker would give
    return to_tensors({**batched, "robot_command": command})


@pytest.fixture(scope="module")
def obs() -> dict[str, torch.Tensor]:
    o = real_observations("pernav/CrowdNavFewerHumans-v0", batch=3, steps=4)
    assert (o["human_mask"] == 0).any() and (o["human_mask"] == 1).any(), "need padded and valid humans"
    return o


def _policy(cfg: NetworkConfig, max_humans: int = 11, max_obstacles: int = 12):
    torch.manual_seed(0)
    return build_policy(cfg, observation_space(max_humans, max_obstacles), gym.spaces.Discrete(9))


def _run(policy, obs):
    b, t = obs["human_mask"].shape[:2]
    params, value, state = policy(obs, policy.initial_state(b), torch.ones(b, t))
    return params["logits"], value, state


@pytest.mark.parametrize("name", NETWORKS)
@pytest.mark.parametrize("impl", ["kernels", "torch_mha"])
def test_padding_values_never_change_outputs(obs, name, impl):
    policy = _policy(NetworkConfig(name=name, attention_impl=impl))
    ref = _run(policy, obs)
    noisy = dict(obs)
    g = torch.Generator().manual_seed(1)
    pad_h = ~obs["human_mask"].bool()
    pad_o = ~obs["obstacle_mask"].bool()
    noisy["spatial_edges"] = torch.where(pad_h[..., None], torch.randn(obs["spatial_edges"].shape, generator=g) * 5,
                                         obs["spatial_edges"])
    noisy["obstacle_vertices"] = torch.where(pad_o[..., None], torch.randn(obs["obstacle_vertices"].shape,
                                                                            generator=g) * 5, obs["obstacle_vertices"])
    out = _run(policy, noisy)
    for a, b in zip(ref, out, strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-6)
    # and a real change of a valid human does change the output
    moved = dict(obs)
    moved["spatial_edges"] = torch.where(pad_h[..., None], obs["spatial_edges"], obs["spatial_edges"] + 0.5)
    assert (_run(policy, moved)[2] - ref[2]).abs().max() > 1e-5  # recurrent features (logits start ~1e-3)


@pytest.mark.parametrize("name", ["height", "homogeneous"])
def test_extra_padding_slots_never_change_outputs(obs, name):
    policy = _policy(NetworkConfig(name=name))
    ref = _run(policy, obs)
    wider = dict(obs)
    for key, mask_key, extra in (("spatial_edges", "human_mask", 4), ("obstacle_vertices", "obstacle_mask", 3)):
        x = obs[key]
        wider[key] = torch.cat([x, torch.full((*x.shape[:2], extra, x.shape[-1]), PAD_VALUE)], dim=2)
        m = obs[mask_key]
        wider[mask_key] = torch.cat([m, torch.zeros(*m.shape[:2], extra, dtype=m.dtype)], dim=2)
    out = _run(policy, wider)
    for a, b in zip(ref, out, strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-6)


def test_no_humans_gives_finite_outputs(obs):
    empty = dict(obs)
    empty["human_mask"] = torch.zeros_like(obs["human_mask"])
    empty["spatial_edges"] = torch.full_like(obs["spatial_edges"], PAD_VALUE)
    for name in NETWORKS:
        for impl in ("kernels", "torch_mha"):
            logits, value, _ = _run(_policy(NetworkConfig(name=name, attention_impl=impl)), empty)
            assert torch.isfinite(logits).all() and torch.isfinite(value).all(), (name, impl)


ABLATIONS = [
    {},
    {"human_human_attention": False},
    {"robot_human_attention": False},
    {"use_lidar": False},
]


@pytest.mark.parametrize("name,switches", [("height", s) for s in ABLATIONS] + [("homogeneous", {}), ("dsrnn", {})])
def test_gradients_reach_every_parameter(obs, name, switches):
    policy = _policy(NetworkConfig(name=name, **switches))
    logits, value, _ = _run(policy, obs)
    (logits.logsumexp(-1).sum() + logits[..., 0].sum() + value.sum()).backward()
    dead = [n for n, p in policy.named_parameters() if p.grad is None or not p.grad.abs().sum() > 0]
    assert not dead, f"no gradient reaches {dead}"


def test_ablation_switches_remove_branches():
    full = {n for n, _ in _policy(NetworkConfig()).named_parameters()}
    assert any(n.startswith("trunk.hh_attention") for n in full)
    assert any(n.startswith("trunk.rh_attention") for n in full)
    assert any(n.startswith("trunk.lidar") for n in full)
    for switch, prefix in (("human_human_attention", "trunk.hh_attention"),
                           ("robot_human_attention", "trunk.rh_attention"), ("use_lidar", "trunk.lidar")):
        names = {n for n, _ in _policy(dataclasses.replace(NetworkConfig(), **{switch: False})).named_parameters()}
        assert not any(n.startswith(prefix) for n in names), switch


def test_lidar_changes_output_only_with_lidar_branch(obs):
    other = dict(obs)
    other["point_clouds"] = obs["point_clouds"] * 0.5
    with_lidar = _policy(NetworkConfig())
    assert (_run(with_lidar, obs)[2] - _run(with_lidar, other)[2]).abs().max() > 1e-5
    without = _policy(NetworkConfig(use_lidar=False))
    torch.testing.assert_close(_run(without, obs)[2], _run(without, other)[2])


@pytest.mark.parametrize("name", NETWORKS)
def test_reset_mask_starts_a_fresh_episode(obs, name):
    """A mask of 0 at step t must make steps ≥ t independent of everything before t."""
    policy = _policy(NetworkConfig(name=name))
    b, t = obs["human_mask"].shape[:2]
    masks = torch.ones(b, t)
    masks[:, 2] = 0
    start = torch.randn(b, policy.state_size)
    params, value, state = policy(obs, start, masks)
    tail = {k: v[:, 2:] for k, v in obs.items()}
    params2, value2, state2 = policy(tail, policy.initial_state(b), torch.ones(b, t - 2))
    torch.testing.assert_close(params["logits"][:, 2:], params2["logits"], rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(value[:, 2:], value2, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(state, state2, rtol=1e-5, atol=1e-6)
    # without the reset the carried state matters
    _, _, state3 = policy(obs, start, torch.ones(b, t))
    assert (state3 - state2).abs().max() > 1e-5


def test_continuous_head_is_gaussian(obs):
    torch.manual_seed(0)
    policy = build_policy(NetworkConfig(), observation_space(), gym.spaces.Box(-1.0, 1.0, (2,), np.float32))
    b, t = obs["human_mask"].shape[:2]
    params, value, _ = policy(obs, policy.initial_state(b), torch.ones(b, t))
    dist = policy.distribution(params)
    assert dist.sample().shape == (b, t, 2)
    torch.testing.assert_close(params["scale"], torch.ones(b, t, 2))
    assert dist.log_prob(params["loc"]).shape == (b, t)


def test_missing_observation_key_is_named():
    with pytest.raises(KeyError, match="point_clouds"):
        to_tensors({k: np.zeros(1) for k in KEYS if k != "point_clouds"})


@pytest.mark.parametrize("name", NETWORKS)
def test_attention_backends_agree(obs, name):
    """Every kernels backend computes the same network (the choice is only about speed)."""
    ref = _run(_policy(NetworkConfig(name=name, attention_backend="reference")), obs)
    fast = _run(_policy(NetworkConfig(name=name, attention_backend="torch")), obs)
    for a, b in zip(ref, fast, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
