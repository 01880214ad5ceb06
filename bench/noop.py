"""A job that does nothing: what the worker costs per job before any Atende work (bench 1b)."""


def noop(*args: object) -> None:
    return None
