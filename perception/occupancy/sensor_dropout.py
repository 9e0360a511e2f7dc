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
            if "depth" in f:  # no depth supervision for a view that sees nothing
                f["depth"] = f["depth"].clone()
                f["depth"][:, view] = 0
        elif condition == "cameras_missing":
            f["images"] = black.to(f["images"]).expand_as(f["images"]).clone()
            if "depth" in f:
                f["depth"] = torch.zeros_like(f["depth"])
        else:
            raise ValueError(f"unknown dropout condition {condition!r}; known: {DROPOUT_CONDITIONS}")
        frames.append(f)
    return dict(batch, frames=frames)


#: share of the dropped-out training iterations per kind of failure: a lost radar stream is the failure a fused
#: model must survive with a different path (camera only), so it gets half; a single black view needs less
TRAINING_MIX = {"radar_missing": 0.5, "camera_black": 0.35, "cameras_missing": 0.15}


def random_dropout(batch: dict, probability: float, rng: random.Random) -> dict:
    """With `probability`, apply one condition drawn from `TRAINING_MIX` (a black view is drawn uniformly)."""
    if probability <= 0 or rng.random() >= probability:
        return batch
    kind = rng.choices(list(TRAINING_MIX), weights=list(TRAINING_MIX.values()))[0]
    if kind == "camera_black":
        kind = f"camera_black:{rng.randrange(batch['frames'][0]['images'].shape[1])}"
    return apply_dropout(batch, kind)
