"""pipeline.yaml read into typed config: parsing, overlays, interpolation, the schema and its checks."""
