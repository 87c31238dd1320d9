"""The engine: the stage graph, the runner, the manifest, fingerprints and the workdir lock."""
