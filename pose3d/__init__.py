"""People: skeletons and metrics; SelfPose3d (pose3d/multiview) and BEV (pose3d/monocular)."""
