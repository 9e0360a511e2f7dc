"""Sensor dropout: remove the radar or black out cameras in a collated batch (evaluation conditions and an
optional training augmentation)."""

from __future__ import annotations

import random

import torch

from perception.occupancy.data.images import IMAGENET_MEAN, IMAGENET_STD

#: condition name -> description; `camera_black:<i>` blacks out view i
DROPOUT_CONDITIONS = ("none", "radar_missing", "camera_black:0", "camera_black:3", "cameras_missing")


def apply_dropout(batch: dict, condition: str) -> dict:
    """Return `batch` with a sensor removed: `radar_missing`, `camera_black:<view>`, `cameras_missing`."""
    if condition == "none":
        return batch
    black = ((torch.zeros(3, 1, 1) - IMAGENET_MEAN) / IMAGENET_STD)
    frames = []
    for f in batch["frames"]:
        f = dict(f)
        if condition == "radar_missing":
            f["radar_lengths"] = torch.zeros_like(f["radar_lengths"])
        elif condition.startswith("camera_black:"):
            view = int(condition.split(":", 1)[1])
            images = f["images"].clone()
            images[:, view] = black.to(images)
            f["images"] = images
        elif condition == "cameras_missing":
            f["images"] = black.to(f["images"]).expand_as(f["images"]).clone()
        else:
            raise ValueError(f"unknown dropout condition {condition!r}; known: {DROPOUT_CONDITIONS}")
        frames.append(f)
    return dict(batch, frames=frames)


def random_dropout(batch: dict, probability: float, rng: random.Random) -> dict:
    """With `probability`, apply one randomly chosen condition (radar missing, or one camera black)."""
    if probability <= 0 or rng.random() >= probability:
        return batch
    views = batch["frames"][0]["images"].shape[1]
    return apply_dropout(batch, rng.choice(["radar_missing", *[f"camera_black:{v}" for v in range(views)]]))
