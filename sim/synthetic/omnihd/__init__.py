"""Synthetic OmniHD-Scenes: a procedural street world written in the dataset's real layout."""

from sim.synthetic.omnihd.writer import GeneratorConfig, write_dataset

__all__ = ["GeneratorConfig", "write_dataset"]
