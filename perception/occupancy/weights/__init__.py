"""Shipped MetaOcc weights (`metaocc_small.pt`: the small fusion preset trained on generated data)."""
