"""Occupancy datasets: the OmniHD-Scenes layout (tables + sensor files) and Occ3D-style labels."""
