"""Typed configuration of HEIGHT training and evaluation: one dataclass tree, YAML presets, dotted overrides.

A preset in ``configs/nav/*.yaml`` is complete (no inheritance); ``load_config(path, ["ppo.lr=1e-4"])``
reads it, applies ``key=value`` overrides by dotted name and validates. The resolved config is stored in
every checkpoint (``asdict``) and rebuilt from there with :func:`config_from_dict`.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from configs import schema

NETWORKS = ("height", "homogeneous", "dsrnn")
ATTENTION_IMPLS = ("kernels", "torch_mha")


@dataclass
class NetworkConfig:
    """Which policy network to build and its switches (sizes follow HEIGHT, MISSION_ANCHORS §D.2)."""

    name: str = "height"
    """height (heterogeneous graph), homogeneous (one attention over all nodes) or dsrnn (DS-RNN style)"""
    human_human_attention: bool = True
    """ablation: False replaces human-human self-attention by a per-human MLP"""
    robot_human_attention: bool = True
    """ablation: False sums the human embeddings instead of attending to them"""
    use_lidar: bool = True
    """ablation: False drops the robot-obstacle (lidar) branch"""
    attention_impl: str = "kernels"
    """kernels (``kernels.set_attention``, the default) or torch_mha (``nn.MultiheadAttention``, benchmark peer)"""
    attention_backend: str = ""
    """``kernels`` backend for every set attention: "" lets ``kernels.choose_backend`` pick, or reference / torch /
    triton"""
    hh_heads: int = 8
    """heads of the human-human self-attention (HEIGHT: 8 over 128 channels)"""
    rh_temperature: float = 11 / math.sqrt(128)
    """logit scale of the robot-human attention; HEIGHT uses num_human_slots / √128 with 11 slots. Kept a
    number (not derived from the padded size) so adding padding never changes the output"""
    hidden_size: int = 128
    """GRU hidden size"""
    head_size: int = 256
    """width of the two tanh layers of actor and critic"""
    lidar_clip: float = 10.0
    """lidar ranges are clipped to this (m) and divided by it before the 1-D CNN"""
    stop_mask: bool = False
    """mask the increments after which the robot could not brake to a stop before the static geometry its lidar
    sees, or before a human who keeps walking as now (``navigation.networks.stop_mask``); no weights, so
    checkpoints load either way"""
    stop_mask_margin: float = 0.01
    """clearance (m) beyond the robot radius a stop path must keep from static geometry"""
    stop_mask_humans: bool = True
    """also mask, among the statically safe increments, those whose stop path reaches a constant-velocity human"""
    stop_mask_human_margin: float = 0.05
    """clearance (m) beyond both radii a stop path must keep from those humans"""


@dataclass
class PPOConfig:
    """HEIGHT's PPO settings (MISSION_ANCHORS §D.2) with the env count fitted to a 2-core machine."""

    num_envs: int = 8
    """environments per process (HEIGHT: 28 on a workstation)"""
    num_steps: int = 30
    """rollout length per environment per update"""
    num_minibatches: int = 2
    """minibatches per epoch, split over environments (whole sequences, for the GRU)"""
    epochs: int = 5
    """passes over each rollout"""
    clip: float = 0.2
    gamma: float = 0.99
    gae_lambda: float = 0.95
    lr: float = 5e-5
    adam_eps: float = 1e-5
    linear_lr_decay: bool = True
    """decay the learning rate linearly to 0 over ``total_updates``"""
    value_coef: float = 0.25
    """weight of TorchRL's squared-error critic loss; HEIGHT's 0.5 × ½(ret − v)² equals 0.25 × (ret − v)²"""
    entropy_coef: float = 0.01
    max_grad_norm: float = 0.5


@dataclass
class ImitationConfig:
    """DAgger warm start (``pernav nav imitate``, :mod:`navigation.imitation`) before PPO fine-tuning."""

    expert: str = "dwa"
    """classic policy whose actions are the labels (orca, social_force, dwa, dwa_plan or mpc)"""
    iterations: int = 600
    """collect-and-train iterations (each ``ppo.num_envs × ppo.num_steps`` env steps per process)"""
    beta_start: float = 1.0
    """probability that the expert's action is executed at the first iteration (else the learner's sample)"""
    beta_iterations: int = 200
    """β decays linearly from ``beta_start`` to 0 over this many iterations (then only the learner acts)"""
    buffer: int = 8
    """rollouts kept for training (the newest; DAgger's aggregated data set, bounded)"""
    batch_sequences: int = 64
    """env sequences (of ``ppo.num_steps`` steps) per gradient step"""
    epochs: int = 4
    """passes over the buffer per iteration"""
    lr: float = 2e-3
    max_grad_norm: float = 1.0
    value_coef: float = 0.05
    """weight of the critic's squared error to GAE targets (so PPO starts from a fitted critic); small, since
    returns of ±20 would otherwise dominate the shared trunk's gradient"""
    near_human_weight: float = 0.0
    """extra label weight on steps where a visible human is within ``near_human_dist`` (the rare states that
    decide collisions); 0 weighs every step the same"""
    near_human_dist: float = 1.5
    """(m) from the robot's centre to the human's"""
    label_temperature: float = 0.0
    """0: the expert's action is the label. τ > 0 (DWA-family experts, discrete actions): the label is
    ``softmax(values / τ)`` over the expert's per-action values (score units: metres of progress), trained with
    cross-entropy, so near-ties stop being contradictory targets and actions the expert rules out get none"""


@dataclass
class EnvConfig:
    """The gymnasium environment trained and evaluated on (built with ``gymnasium.make``)."""

    env_id: str = "pernav/CrowdNav-v0"
    overrides: dict[str, Any] = field(default_factory=dict)
    """keyword arguments passed to ``gymnasium.make`` (fields of the simulator's config)"""
    vector: str = "native"
    """native (the simulator's batched vector env), sync or async (gymnasium wrappers, one env each)"""


@dataclass
class TrainConfig:
    """Everything ``pernav nav train`` needs; a preset in ``configs/nav/`` sets every field."""

    seed: int = 0
    total_updates: int = 1000
    """PPO updates (each ``num_envs × num_steps`` env steps per process)"""
    checkpoint_every: int = 50
    """write ``checkpoint.pt`` atomically every this many updates (and at the end)"""
    keep_every: int = 0
    """also keep ``checkpoint_<update>.pt`` every this many updates (a multiple of ``checkpoint_every``; 0 = off):
    snapshots for ``pernav nav export`` to average"""
    log_every: int = 1
    """TensorBoard scalars every this many updates"""
    out_dir: str = "outputs/nav/height"
    """run folder: checkpoint.pt, config.yaml, TensorBoard events"""
    torch_threads: int = 1
    """``torch.set_num_threads`` per process"""
    init_from: str = ""
    """policy weights a new PPO or DAgger run starts from (e.g. a ``pernav nav imitate`` checkpoint); "" = random"""
    network: NetworkConfig = field(default_factory=NetworkConfig)
    ppo: PPOConfig = field(default_factory=PPOConfig)
    env: EnvConfig = field(default_factory=EnvConfig)
    imitation: ImitationConfig = field(default_factory=ImitationConfig)

    def validate(self) -> None:
        """Raise ``ValueError`` naming the field when a value is impossible."""
        if self.network.name not in NETWORKS:
            raise ValueError(f"network.name={self.network.name!r}: expected one of {NETWORKS}")
        if self.network.attention_impl not in ATTENTION_IMPLS:
            raise ValueError(f"network.attention_impl={self.network.attention_impl!r}: expected {ATTENTION_IMPLS}")
        if self.network.attention_backend not in ("", "reference", "torch", "triton"):
            raise ValueError(f"network.attention_backend={self.network.attention_backend!r}: expected '', reference, "
                             "torch or triton")
        if self.network.hidden_size % self.network.hh_heads:
            raise ValueError(f"network.hh_heads={self.network.hh_heads} must divide network.hidden_size")
        for name in ("stop_mask_margin", "stop_mask_human_margin"):
            if getattr(self.network, name) < 0:
                raise ValueError(f"network.{name}={getattr(self.network, name)}: must not be negative")
        if self.env.vector not in ("native", "sync", "async"):
            raise ValueError(f"env.vector={self.env.vector!r}: expected native, sync or async")
        for name in ("total_updates", "checkpoint_every", "log_every", "torch_threads"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name}={getattr(self, name)}: must be at least 1")
        if self.keep_every < 0 or self.keep_every % self.checkpoint_every:
            raise ValueError(f"keep_every={self.keep_every}: must be 0 or a multiple of "
                             f"checkpoint_every={self.checkpoint_every}")
        p = self.ppo
        for name in ("num_envs", "num_steps", "num_minibatches", "epochs"):
            if getattr(p, name) < 1:
                raise ValueError(f"ppo.{name}={getattr(p, name)}: must be at least 1")
        if p.num_envs % p.num_minibatches:
            raise ValueError(f"ppo.num_minibatches={p.num_minibatches} must divide ppo.num_envs={p.num_envs}")
        if not (0 < p.gamma <= 1 and 0 <= p.gae_lambda <= 1 and p.clip > 0 and p.lr > 0):
            raise ValueError(f"ppo: need 0<gamma<=1, 0<=gae_lambda<=1, clip>0, lr>0, got {p}")
        im = self.imitation
        if im.expert not in ("orca", "social_force", "dwa", "dwa_plan", "mpc"):
            raise ValueError(f"imitation.expert={im.expert!r}: expected orca, social_force, dwa, dwa_plan or mpc")
        for name in ("iterations", "beta_iterations", "buffer", "batch_sequences", "epochs"):
            if getattr(im, name) < 1:
                raise ValueError(f"imitation.{name}={getattr(im, name)}: must be at least 1")
        if not (0.0 <= im.beta_start <= 1.0 and im.lr > 0 and im.max_grad_norm > 0):
            raise ValueError(f"imitation: need 0<=beta_start<=1, lr>0 and max_grad_norm>0, got {im}")
        if im.near_human_weight < 0 or im.near_human_dist <= 0 or im.label_temperature < 0:
            raise ValueError(f"imitation: need near_human_weight>=0, near_human_dist>0, label_temperature>=0, got {im}")


def config_from_dict(data: dict[str, Any]) -> TrainConfig:
    """Rebuild (and validate) a :class:`TrainConfig` from ``asdict`` output or parsed YAML."""
    cfg = schema.from_dict(TrainConfig, data)
    cfg.validate()
    return cfg


def load_config(path: str | Path, overrides: list[str] | None = None) -> TrainConfig:
    """Read a YAML preset, apply dotted overrides, validate."""
    data = schema.read_yaml(path)
    try:
        return config_from_dict(schema.apply_overrides(data, overrides))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{path}: {exc}") from exc


def config_to_dict(cfg: TrainConfig) -> dict[str, Any]:
    """Plain nested dict (YAML/JSON-safe) of a config."""
    return schema.to_dict(cfg)


def replace_network(cfg: NetworkConfig, **kwargs: Any) -> NetworkConfig:
    """A copy of a network config with some fields changed."""
    return dataclasses.replace(cfg, **kwargs)
