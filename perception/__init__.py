"""Perception: sensor geometry shared by all perception, and MetaOcc occupancy (perception/occupancy)."""
