"""The executors registry: executor.type -> its ExecutorKind."""

from __future__ import annotations

from swiftpipe.executors import DEFAULT, EXECUTORS, REGISTRY, get_executor
from swiftpipe.executors.slurm.config import SlurmResources, SlurmSettings, path_problems


def test_the_registry_names_local_first_and_it_is_the_default() -> None:
    assert EXECUTORS.names() == ["local", "slurm", "ray"] == list(REGISTRY)
    assert DEFAULT == "local"


def test_each_name_gives_its_executor() -> None:
    for name in EXECUTORS.names():
        assert EXECUTORS.get(name).name == name
        assert EXECUTORS.get(name) is get_executor(name)


def test_slurm_declares_its_stage_key_settings_and_check() -> None:
    slurm = EXECUTORS.get("slurm")
    assert (slurm.stage_key, slurm.resources, slurm.settings, slurm.check) == (
        "slurm", SlurmResources, SlurmSettings, path_problems)
    assert type(slurm.make()).__name__ == "SlurmExecutor"
