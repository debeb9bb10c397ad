"""Every layer nested inside a Keras layer or model: one definition for the checks and the hand-over.

Kept apart from `capture` so that the checks, which the notebook imports on a student's own
server too, do not import Keras with it."""
from __future__ import annotations

from builtins import getattr, list  # noqa: A004


def sublayers(layer) -> list:
    """Every layer nested inside `layer`, depth first (not `layer` itself). Iterative, so that no
    call goes through a module attribute the notebook could replace."""
    def children(outer):
        return list(getattr(outer, "layers", None) or getattr(outer, "_layers", None) or [])

    found, pending = [], children(layer)[::-1]
    while pending:
        child = pending.pop()
        found.append(child)
        pending.extend(children(child)[::-1])
    return found
