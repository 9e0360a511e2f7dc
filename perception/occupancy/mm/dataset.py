"""`OmniHDOccDataset`: the OmniHD-Scenes loader built from an mmengine config's keywords, with the
`metainfo` that mmengine and mmdet3d tooling read."""

from __future__ import annotations

from typing import Any

from configs import schema
from perception.occupancy.data.omnihd import OmniHDConfig, OmniHDScenes
from perception.occupancy.grid import CLASS_NAMES


class OmniHDOccDataset(OmniHDScenes):
    """`OmniHDScenes(OmniHDConfig(root=data_root, **options), split)`; `options` are `OmniHDConfig` fields
    (unknown keys are errors naming the key). Items are those of `OmniHDScenes`; batch them with
    `perception.occupancy.data.omnihd.collate` (registered as `omnihd_collate`)."""

    def __init__(self, data_root: str, split: str = "train", with_labels: bool = True, **options: Any) -> None:
        cfg = schema.from_dict(OmniHDConfig, {"root": data_root, **options}, "dataset")
        super().__init__(cfg, split, with_labels=with_labels)
        self.split = split

    @property
    def metainfo(self) -> dict[str, Any]:
        """Class names (index 0 is free space) and the split, as mmengine's `dataset_meta`."""
        return {"classes": ("free", *CLASS_NAMES), "split": self.split}
