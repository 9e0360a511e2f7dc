"""MetaOcc network: camera branch, radar branch, local/global fusion, temporal memory, occupancy head."""

from perception.occupancy.model.config import ModelConfig
from perception.occupancy.model.metaocc import MetaOcc

__all__ = ["MetaOcc", "ModelConfig"]
