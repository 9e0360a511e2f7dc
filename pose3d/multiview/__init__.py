"""SelfPose3d: self-supervised multi-person multi-view 3D pose (VoxelPose-style model, pseudo-2D training)."""
