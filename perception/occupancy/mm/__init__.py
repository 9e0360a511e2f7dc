"""MetaOcc on OpenMMLab's engine: the mmengine `BaseModel` wrapper, data preprocessor (radar pillars through
`mmcv.ops.Voxelization` when mmcv has its ops), hooks, an atomic checkpoint file backend, and the mmdet3d
registration (`perception.occupancy.mm.mmdet3d_plugin`, imported by the configs in `configs/occupancy/mmdet3d/`).

Nothing here is imported by the model code: `perception.occupancy.model` stays plain torch.
"""
