"""Prediction over a dataset and the protocol metrics (Panoptic AP/MPJPE/recall, Shelf/Campus PCP)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch.utils.data import DataLoader
from tqdm import tqdm

from pose3d.metrics import panoptic_metrics, pcp_shelf14
from pose3d.multiview.batching import FrameTensors, rig_of
from pose3d.multiview.datasets.sample import FrameSample
from pose3d.multiview.model import SelfPose3dModel
from pose3d.skeleton import panoptic15_to_shelf14


@torch.no_grad()
def predict(
    model: SelfPose3dModel, frames: Sequence[FrameSample], device: str = "cpu", progress: bool = True
) -> list[dict[str, np.ndarray]]:
    """Per frame ``{"poses": [P, J, 3] mm, "scores": [P]}`` (valid proposals only)."""
    model.eval()
    data = FrameTensors(frames, model.cfg, 1, augment=False, load_images=model.backbone is not None)
    out = []
    for batch in tqdm(DataLoader(data, batch_size=1), desc="predict", disable=not progress):
        batch = {k: v.to(device) for k, v in batch.items()}
        rig = rig_of(batch, 0, data.heatmap_size())
        res = (
            model(rig, images=batch["images"][:, 0])
            if model.backbone is not None
            else model(rig, heatmaps=batch["targets"][:, 0])
        )
        keep = res["valid"][0]
        out.append(
            {
                "poses": res["poses"][0, keep].cpu().numpy(),
                "scores": res["scores"][0, keep].cpu().numpy(),
            }
        )
    return out


def evaluate(
    preds: list[dict[str, np.ndarray]],
    frames: Sequence[FrameSample],
    actors: list[list[np.ndarray | None]] | None = None,
) -> dict[str, object]:
    """Panoptic-protocol metrics from the frames' 3D ground truth, or Shelf/Campus PCP from ``actors``."""
    if actors is not None:
        return pcp_shelf14([panoptic15_to_shelf14(p["poses"]) for p in preds], actors)
    if not any(len(f.joints_3d) for f in frames):
        raise ValueError("evaluation needs 3D ground truth, and these frames have none")
    return panoptic_metrics(
        [p["poses"] for p in preds],
        [p["scores"] for p in preds],
        [f.joints_3d for f in frames],
        [f.joints_3d_vis for f in frames],
    )
