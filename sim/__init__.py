"""Simulation: sim/crowd (gymnasium crowd navigation) and sim/synthetic (datasets in real on-disk formats)."""
