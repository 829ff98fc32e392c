"""Training: the config, the profiles, the run folder, callbacks, optimisers, the trainer."""
