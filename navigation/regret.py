"""``pernav nav regret``: how a DWA-family expert scores a learned policy's own actions, step by step.

DAgger's agreement (the share of steps where the learner's most likely action is the expert's) does not say
how bad the other steps are. Here the learner drives (its most likely action, as in evaluation), and on every
state it reaches the expert (``dwa``, ``dwa_plan`` or ``mpc``) scores all 9 actions
(:attr:`navigation.baselines.dwa.DWAPolicy.action_values`). Per step, the learner's *regret* is the expert's best
value minus the value of the learner's action (score units: metres of progress). While any action is
admissible, one that no admissible plan starts with (the robot could not stop before its closest approach) has
value −inf: the expert *rules it out*.
"""

from __future__ import annotations

import numpy as np

from navigation.baselines import DWAPolicy
from navigation.baselines.common import robot_limits
from navigation.config import EnvConfig
from navigation.envs import make_vector_env
from navigation.imitation import ExpertMixer
from navigation.networks import ActorCritic
from navigation.policies import make_policy
from navigation.rollout import RolloutCollector

#: regret levels reported as the share of steps above them
LEVELS = (0.05, 0.2, 0.5)


def expert_regret(net: ActorCritic, expert: str, env_cfg: EnvConfig, num_envs: int, steps: int,
                  seed: int) -> dict[str, float]:
    """``num_envs`` envs × ``steps`` steps of ``net`` (greedy) scored by ``expert`` → shares of the learner's
    decisions: ``agreement`` (an action of the expert's best value), ``ruled_out`` and ``regret>L`` for each
    level in :data:`LEVELS`; ``steps`` counts the decisions (env reset steps excluded)."""
    teacher = make_policy(expert, env_cfg)
    if not isinstance(teacher, DWAPolicy):
        raise ValueError(f"expert {expert!r}: must score every action (dwa, dwa_plan or mpc)")
    envs = make_vector_env(env_cfg, num_envs)
    mixer = ExpertMixer(teacher, num_envs, seed)
    mixer.beta = 0.0  # the learner acts; the expert only scores
    regret: list[np.ndarray] = []

    def score(obs: dict[str, np.ndarray], first: np.ndarray, learner: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        executed, label = mixer(obs, first, learner)
        values = teacher.action_values
        regret.append(values.max(axis=1) - values[np.arange(len(executed)), executed])
        return executed, label

    collector = RolloutCollector(envs, net.eval(), steps, robot_limits(env_cfg.env_id, env_cfg.overrides),
                                 behaviour=score, deterministic=True)
    collector.restart(seed)
    rollout, _ = collector.collect()
    envs.close()
    r = np.stack(regret, axis=1)[rollout.valid.numpy() > 0]  # [decisions]
    out = {"steps": float(r.size), "agreement": float(np.mean(r == 0)), "ruled_out": float(np.mean(np.isinf(r)))}
    out.update({f"regret>{level}": float(np.mean(r > level)) for level in LEVELS})
    return out
