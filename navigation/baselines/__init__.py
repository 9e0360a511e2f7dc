"""Non-learned robot policies run in the same harness as the learned ones: ORCA, social force, DWA (with or
without a global navigation function)."""

from navigation.baselines.dwa import DWAPolicy, PlanningDWAPolicy
from navigation.baselines.orca_robot import OrcaRobotPolicy
from navigation.baselines.social_force_robot import SocialForceRobotPolicy

__all__ = ["DWAPolicy", "PlanningDWAPolicy", "OrcaRobotPolicy", "SocialForceRobotPolicy"]
