"""`pernav occ eval` and `pernav occ infer`: metrics on a split (with sensor-dropout conditions), and
predictions + pictures for every sample of a dataset folder."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader
from tqdm import tqdm

from perception.occupancy.atomic import save_npz_atomic, save_text_atomic
from perception.occupancy.checkpoint import model_from_checkpoint
from perception.occupancy.config import OccConfig
from perception.occupancy.data.omnihd import OmniHDScenes, collate
from perception.occupancy.labels import dense_to_sparse
from perception.occupancy.metrics import OccupancyMetrics
from perception.occupancy.model import MetaOcc
from perception.occupancy.sensor_dropout import apply_dropout
from perception.occupancy.train import to_device
from perception.occupancy.visualize import save_comparison


@torch.no_grad()
def evaluate(model: MetaOcc, cfg: OccConfig, split: str = "val", conditions: tuple[str, ...] = ("none",),
             picture_dir: Path | None = None, progress: bool = True) -> dict[str, dict[str, float]]:
    """Metrics per dropout condition on `split`; writes one comparison picture per condition if asked."""
    device = torch.device(cfg.device)
    model = model.to(device).eval()
    ds = OmniHDScenes(cfg.data, split)
    loader = DataLoader(ds, batch_size=1, shuffle=False, collate_fn=collate, num_workers=cfg.optim.num_workers)
    meters = {c: OccupancyMetrics(cfg.model.num_classes) for c in conditions}
    for i, batch in enumerate(tqdm(loader, desc=f"occ eval ({split})", disable=not progress)):
        batch = to_device(batch, device)
        for cond in conditions:
            pred = model(apply_dropout(batch, cond)["frames"]).argmax(1)
            meters[cond].update(pred, batch["occ"])
            if picture_dir is not None and i == len(ds) // 2:
                name = cond.replace(":", "")
                save_comparison(picture_dir / f"eval_{split}_{name}.png", pred[0].cpu().numpy().astype(np.uint8),
                                batch["occ"][0].cpu().numpy(), f"{cfg.model.variant}, {cond}, {batch['token'][0]}")
    return {c: m.compute() for c, m in meters.items()}


@torch.no_grad()
def infer(checkpoint: str, root: str, split: str, out_dir: Path, max_pictures: int = 4,
          progress: bool = True) -> list[Path]:
    """Predict every sample of `root`/`split`: `<out>/pred/<scene>/<token>.npz` (the occ_gt format) and
    pictures for the first `max_pictures` samples. Returns the written prediction files."""
    model, cfg, _ = model_from_checkpoint(checkpoint)
    cfg.data.root = root
    model.eval()
    ds = OmniHDScenes(cfg.data, split, with_labels=False)
    written = []
    loader = DataLoader(ds, batch_size=1, shuffle=False, collate_fn=collate)
    for i, batch in enumerate(tqdm(loader, desc="occ infer", disable=not progress)):
        pred = model(to_device(batch, torch.device("cpu"))["frames"]).argmax(1)[0].numpy().astype(np.uint8)
        path = out_dir / "pred" / batch["scene"][0] / f"{batch['token'][0]}.npz"
        save_npz_atomic(path, occ_gt=dense_to_sparse(pred))
        written.append(path)
        if i < max_pictures:
            save_comparison(out_dir / f"infer_{batch['token'][0]}.png", pred, None, f"prediction {batch['token'][0]}")
    return written


def write_json(path: Path, obj: object) -> None:
    """Pretty JSON, written atomically."""
    save_text_atomic(path, json.dumps(obj, indent=1) + "\n")
