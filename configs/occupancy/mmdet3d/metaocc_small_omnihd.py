# MetaOcc (small preset) on OmniHD-Scenes for mmdet3d's own entry points, complete (no _base_):
#   python <mmdet3d>/tools/train.py configs/occupancy/mmdet3d/metaocc_small_omnihd.py \
#       --work-dir outputs/occ/mmdet3d --cfg-options train_dataloader.dataset.data_root=data/omnihd_synth
# The model, data and optimisation values are those of configs/occupancy/metaocc_small.yaml (a test keeps
# them equal). MetaOcc and the dataset come from perception.occupancy.mm.mmdet3d_plugin (custom_imports).
default_scope = 'mmdet3d'
custom_imports = dict(imports=['perception.occupancy.mm.mmdet3d_plugin'], allow_failed_imports=False)

data_root = 'data/omnihd_synth'
max_iters = 400
data_options = dict(
    image_scale=1.0,  # generated views are 48x80 after the devkit's front/back halving
    pad_to=16,
    radar_sweeps=3,
    radar_range=[-72.0, -56.0, -3.0, 72.0, 56.0, 5.0],
    history=1)

model = dict(
    type='MetaOcc',
    model=dict(
        variant='fusion',  # fusion | camera | radar
        backbone='resnet18',
        backbone_checkpoint='',
        channels=32,
        downsample=[4, 4, 2],  # 60 x 40 x 8 feature grid
        camera_stride=4,  # 12x20 image features from the 48x80 views
        depth_bins=30,
        depth_range=[1.0, 61.0],
        radar_in=8,
        heads=4,
        na_kernel=[5, 5, 3],
        global_tokens=[4, 4, 2],
        memory=1,
        num_classes=12),
    optim=dict(scal_weight=1.0),  # loss weights (perception.occupancy.config.OptimConfig fields)
    voxelization='auto',  # radar pillars: mmcv.ops.Voxelization when mmcv has its ops, else pure torch
    max_points_per_voxel=-1)  # -1 keeps every radar point (equal to the torch path)

train_dataloader = dict(
    batch_size=1,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=True, seed=0),
    collate_fn=dict(type='omnihd_collate'),
    dataset=dict(type='OmniHDOccDataset', data_root=data_root, split='train', **data_options))
val_dataloader = dict(
    batch_size=1,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='omnihd_collate'),
    dataset=dict(type='OmniHDOccDataset', data_root=data_root, split='val', **data_options))
test_dataloader = val_dataloader
val_evaluator = dict(type='OccupancyMetric')
test_evaluator = val_evaluator

train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=max_iters)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=0.002, weight_decay=0.01),
    clip_grad=dict(max_norm=35.0),
    paramwise_cfg=dict(custom_keys={'net.camera.encoder': dict(lr_mult=0.1)}))
param_scheduler = [
    dict(type='CosineAnnealingLR', T_max=max_iters, eta_min_ratio=0.01, by_epoch=False, begin=0, end=max_iters)
]

default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=10),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(
        type='CheckpointHook', interval=100, by_epoch=False, max_keep_ckpts=2,
        backend_args=dict(backend='pernav_atomic_local')),  # atomic writes (temp file + os.replace)
    sampler_seed=dict(type='DistSamplerSeedHook'))
custom_hooks = [
    dict(type='ClassWeightsHook'),  # 1 / log(1.02 + frequency) from the training labels
    dict(type='SensorDropoutHook', probability=0.15, seed=0),
    dict(type='MetaOccCheckpointHook'),  # checkpoints `pernav occ eval` reads (weights_only=True)
]

env_cfg = dict(cudnn_benchmark=False, mp_cfg=dict(mp_start_method='fork'), dist_cfg=dict(backend='gloo'))
randomness = dict(seed=0)
vis_backends = [dict(type='LocalVisBackend'), dict(type='TensorboardVisBackend')]
visualizer = dict(type='Visualizer', vis_backends=vis_backends, name='visualizer')
log_processor = dict(type='LogProcessor', window_size=10, by_epoch=False)
log_level = 'INFO'
load_from = None
resume = False
