"""Multi-view people datasets: CMU Panoptic, Shelf/Campus, and any calibrated rig with 2D pseudo poses.

All loaders produce :class:`pose3d.multiview.datasets.sample.FrameSample` objects, so the model and
the training loop never know which dataset (or whether synthetic data) they are reading.
"""
