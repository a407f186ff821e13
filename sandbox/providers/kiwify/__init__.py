"""The sandbox's Kiwify (docstring completed below)."""

NAME = "kiwify"
