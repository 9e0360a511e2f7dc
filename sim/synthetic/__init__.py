"""Deterministic generators that write small datasets in real on-disk formats."""
