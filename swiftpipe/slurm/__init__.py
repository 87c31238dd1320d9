"""Running stages as SLURM jobs: sbatch scripts chained with afterok, one swiftpipe per job."""
