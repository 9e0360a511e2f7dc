"""MetaOcc presets (complete YAML files, loaded by `perception.occupancy.config.load_config`)."""
