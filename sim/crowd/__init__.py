"""Crowd-navigation simulator: gymnasium environments (``pernav/...`` ids), numpy ORCA and social force.

Importing this package registers every environment id with gymnasium (see ``registration.py``).
"""
