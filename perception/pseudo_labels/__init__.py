"""Semi-supervised occupancy pseudo-labels: an open-set image segmentor (pluggable) plus geometric
constraints from LiDAR (points, ground, free space by ray casting) → `occ_gt` files in the real format."""
