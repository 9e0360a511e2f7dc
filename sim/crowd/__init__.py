"""Crowd-navigation simulator: gymnasium environments (``pernav/...`` ids), numpy ORCA and social force.

Importing this package registers every environment id of ``registration.PRESETS`` with gymnasium.
"""

from sim.crowd.registration import register_all

register_all()
