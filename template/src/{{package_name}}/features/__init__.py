"""Turning tables into model inputs."""
