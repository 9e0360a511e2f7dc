"""Experiment presets: one complete, typed config per experiment."""
