"""Layers and losses beyond the chapter (issue 14), one module per family, each a NumPy forward and
its hand-derived backward in float64, batch-first:

- `hinge`: the multiclass hinge (SVM) loss of CS231n and its gradient;
- `norm`: batch normalisation (Ioffe & Szegedy 2015) and layer normalisation (Ba et al. 2016);
- `dropout`: inverted dropout with a given mask (Srivastava et al. 2014);
- `embedding`: the lookup W[ids], whose backward accumulates repeated ids;
- `conv`: 2-D convolution (cross-correlation, NCHW, zero padding);
- `pool`: max pooling (a tie's gradient to the first maximum) and average pooling (padding counted);
- `recurrent`: the tanh RNN with backpropagation through time, and one LSTM cell step;
- `attention`: scaled dot-product attention with a boolean mask (Vaswani et al. 2017).

Every backward is the vector-Jacobian product of its forward: ``check_vjp(forward, args, backward)``.
"""

from backprop_ref.layers.attention import attention_backward, attention_forward
from backprop_ref.layers.conv import conv2d_backward, conv2d_forward
from backprop_ref.layers.dropout import dropout_backward, dropout_forward
from backprop_ref.layers.embedding import embedding_backward, embedding_forward
from backprop_ref.layers.hinge import multiclass_hinge, multiclass_hinge_grad
from backprop_ref.layers.norm import (
    batch_norm_backward,
    batch_norm_forward,
    layer_norm_backward,
    layer_norm_forward,
)
from backprop_ref.layers.pool import (
    avg_pool2d_backward,
    avg_pool2d_forward,
    max_pool2d_backward,
    max_pool2d_forward,
)
from backprop_ref.layers.recurrent import lstm_cell_backward, lstm_cell_forward, rnn_backward, rnn_forward

__all__ = [
    "multiclass_hinge", "multiclass_hinge_grad",
    "batch_norm_forward", "batch_norm_backward", "layer_norm_forward", "layer_norm_backward",
    "dropout_forward", "dropout_backward", "embedding_forward", "embedding_backward",
    "conv2d_forward", "conv2d_backward",
    "max_pool2d_forward", "max_pool2d_backward", "avg_pool2d_forward", "avg_pool2d_backward",
    "rnn_forward", "rnn_backward", "lstm_cell_forward", "lstm_cell_backward",
    "attention_forward", "attention_backward",
]
