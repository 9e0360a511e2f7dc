"""HEIGHT crowd-navigation policy, baselines, PPO training and evaluation."""
