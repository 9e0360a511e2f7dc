"""Synthetic CMU-Panoptic- and Shelf/Campus-format multi-view people datasets (numpy only)."""
