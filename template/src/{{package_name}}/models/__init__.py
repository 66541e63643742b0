"""The project's own models: training and prediction code."""
