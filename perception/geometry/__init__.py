"""Sensor geometry shared by all perception: camera models (``camera``)."""
