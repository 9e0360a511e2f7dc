"""SC-IoU and mIoU as the OmniHD-Scenes devkit computes them.

Per sample, with voxels labelled 255 masked out, a `[classes, 3]` table of (TP, GT, predicted) counts is
filled: row 0 is geometry (non-free vs non-free), rows 1..11 the semantic classes. The tables are averaged
over samples; IoU = TP / (GT + pred − TP) per row; SC-IoU is row 0, mIoU the mean of rows 1..11 (classes
that never occur in GT nor prediction give NaN and are left out of the mean).
"""

from __future__ import annotations

import numpy as np
import torch

from perception.occupancy.grid import CLASS_NAMES, FREE, IGNORE, NUM_CLASSES


def sample_scores(pred: torch.Tensor, gt: torch.Tensor, num_classes: int = NUM_CLASSES) -> np.ndarray:
    """(TP, GT, pred) counts `[B, classes, 3]` for predictions and labels `[B, X, Y, Z]` (int)."""
    out = np.zeros((pred.shape[0], num_classes, 3))
    for b in range(pred.shape[0]):
        mask = gt[b] != IGNORE
        g, p = gt[b][mask], pred[b][mask]
        out[b, 0] = [((g != FREE) & (p != FREE)).sum().item(), (g != FREE).sum().item(), (p != FREE).sum().item()]
        g_cnt = torch.bincount(g, minlength=num_classes)[:num_classes]
        p_cnt = torch.bincount(p, minlength=num_classes)[:num_classes]
        tp = torch.bincount(g[g == p], minlength=num_classes)[:num_classes]
        out[b, 1:] = torch.stack([tp, g_cnt, p_cnt], 1)[1:].double().numpy()
    return out


class OccupancyMetrics:
    """Accumulates per-sample tables; `compute()` gives SC-IoU, mIoU and per-class IoU (percent)."""

    def __init__(self, num_classes: int = NUM_CLASSES) -> None:
        self.num_classes = num_classes
        self.tables: list[np.ndarray] = []

    def update(self, pred: torch.Tensor, gt: torch.Tensor) -> None:
        """pred, gt `[B, X, Y, Z]` integer labels."""
        self.tables.extend(sample_scores(pred.cpu(), gt.cpu(), self.num_classes))

    def compute(self) -> dict[str, float]:
        if not self.tables:
            raise ValueError("OccupancyMetrics.compute: no samples were added")
        mean = np.stack(self.tables).mean(0)
        with np.errstate(invalid="ignore", divide="ignore"):
            iou = mean[:, 0] / (mean[:, 1] + mean[:, 2] - mean[:, 0])
        out = {"sc_iou": 100 * float(iou[0]), "miou": 100 * float(np.nanmean(iou[1:]))}
        names = CLASS_NAMES[: len(iou) - 1]
        out.update({f"iou/{name}": 100 * float(v) for name, v in zip(names, iou[1:], strict=True)})
        return out


def format_table(metrics: dict[str, float]) -> str:
    """A plain-text per-class table."""
    lines = [f"{'class':<18} {'IoU %':>7}", "-" * 26]
    lines += [f"{name:<18} {metrics[f'iou/{name}']:>7.2f}" for name in CLASS_NAMES]
    lines += ["-" * 26, f"{'SC-IoU':<18} {metrics['sc_iou']:>7.2f}", f"{'mIoU':<18} {metrics['miou']:>7.2f}"]
    return "\n".join(lines)
