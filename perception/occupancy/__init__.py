"""MetaOcc: 4D radar + surround-camera 3D semantic occupancy (OmniHD-Scenes / Occ3D labels)."""
