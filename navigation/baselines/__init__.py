"""Non-learned robot policies run in the same harness as the learned ones: ORCA, social force, DWA (with or
without a global navigation function) and sampling MPC."""

from navigation.baselines.dwa import DWAPolicy, PlanningDWAPolicy
from navigation.baselines.mpc import SamplingMPCPolicy
from navigation.baselines.orca_robot import OrcaRobotPolicy
from navigation.baselines.social_force_robot import SocialForceRobotPolicy

__all__ = ["DWAPolicy", "PlanningDWAPolicy", "OrcaRobotPolicy", "SamplingMPCPolicy", "SocialForceRobotPolicy"]
