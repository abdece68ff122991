"""The layers beyond the dense layer, one record per backward pass (issue 14).

Batch norm, layer norm, convolution, max and average pooling, dropout, embeddings, the recurrent
cells (RNN over time, LSTM) and attention: each backward pass as a record checked through
⟨dy, forward⟩ (as the dense layer's is) or as a VJP, with its TensorFlow twin, a domain that
reaches the hard parts (ties in pooling, repeated ids, masks, long sequences) and specials.
"""

from __future__ import annotations

from backprop_ref.catalogue import Formula

__all__ = ["RECORDS"]

RECORDS: tuple[Formula, ...] = ()
