"""The sandbox's Hotmart (docstring completed below)."""

NAME = "hotmart"
