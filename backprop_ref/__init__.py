"""backprop_ref: reference backpropagation formulas and a gradient checker whose verdict can be trusted.

The public names, nothing else. Importing the package never imports TensorFlow (only
`backprop_ref.tf_twins` does, lazily). The formula modules are reached as submodules
(`backprop_ref.catalogue`, `backprop_ref.strategies`, ...); note that `backprop_ref.softmax` is the
function here, so code that wants the module writes `from backprop_ref.softmax import ...`.
"""

from backprop_ref.activations import (
    leaky_relu,
    leaky_relu_grad,
    relu,
    relu_grad,
    sigmoid,
    sigmoid_grad,
    tanh,
    tanh_grad,
)
from backprop_ref.gradcheck import (
    GradCheckResult,
    InconclusiveCheck,
    Kink,
    TaylorResult,
    assert_adjoint,
    assert_elementwise,
    assert_grad,
    assert_jacobian,
    assert_jvp,
    assert_vjp,
    check_adjoint,
    check_elementwise,
    check_grad,
    check_jacobian,
    check_jvp,
    check_vjp,
    numerical_grad,
    numerical_jacobian,
    taylor_test,
)
from backprop_ref.losses import (
    cross_entropy,
    cross_entropy_grad,
    mse,
    mse_grad,
    softmax_cross_entropy,
    softmax_cross_entropy_grad,
)
from backprop_ref.network import MLP, dense_backward, dense_forward
from backprop_ref.softmax import log_softmax, softmax, softmax_jacobian
from backprop_ref.worked import (
    chain_rule_z,
    chain_rule_z_grad,
    exponential_objective,
    exponential_objective_grad,
    himmelblau,
    himmelblau_grad,
    linear_chain,
    linear_chain_grad,
    log_objective,
    log_objective_grad,
    one_layer_grad,
    one_layer_loss,
    quadratic_objective,
    quadratic_objective_grad,
    squared_error_objective,
    squared_error_objective_grad,
    two_layer_grads,
    two_layer_loss,
)

__all__ = [
    # activations (Backward Propagation Algorithm §7.3)
    "sigmoid", "sigmoid_grad", "tanh", "tanh_grad", "relu", "relu_grad", "leaky_relu", "leaky_relu_grad",
    # softmax (Backward Propagation Algorithm §7.4.2)
    "softmax", "log_softmax", "softmax_jacobian",
    # losses (Backward Propagation Algorithm §7.4, Further into Backpropagation)
    "mse", "mse_grad", "softmax_cross_entropy", "softmax_cross_entropy_grad",
    "cross_entropy", "cross_entropy_grad",
    # layers and networks (Backward Propagation Algorithm §7.5, §7.7)
    "dense_forward", "dense_backward", "MLP",
    # worked examples (Backward Propagation Algorithm §7.2.3, §7.6, §7.8; Further into Backpropagation;
    # Backpropagation step by step)
    "himmelblau", "himmelblau_grad", "quadratic_objective", "quadratic_objective_grad",
    "exponential_objective", "exponential_objective_grad", "squared_error_objective",
    "squared_error_objective_grad", "log_objective", "log_objective_grad", "chain_rule_z",
    "chain_rule_z_grad", "linear_chain", "linear_chain_grad", "one_layer_loss", "one_layer_grad",
    "two_layer_loss", "two_layer_grads",
    # the gradient checker
    "check_grad", "assert_grad", "check_jacobian", "assert_jacobian", "numerical_grad",
    "numerical_jacobian", "taylor_test", "GradCheckResult", "InconclusiveCheck", "Kink", "TaylorResult",
    "check_vjp", "assert_vjp", "check_jvp", "assert_jvp", "check_adjoint", "assert_adjoint",
    "check_elementwise", "assert_elementwise", "check_tape",
]

# The chapter's formulas that had no record of their own (issue 14): Backward Propagation Algorithm §7.1
# free fall, §7.2.1 the common derivatives, §7.5.1 the sigmoid neuron and §7.5.2 the sigmoid layer under the
# squared error.
from backprop_ref.elementary import (
    constant,
    constant_grad,
    exponential,
    exponential_grad,
    free_fall,
    free_fall_grad,
    linear,
    linear_grad,
    logarithm,
    logarithm_grad,
    power,
    power_grad,
)
from backprop_ref.network import (
    sigmoid_layer_grads,
    sigmoid_layer_loss,
    sigmoid_neuron_grads,
    sigmoid_neuron_loss,
)

__all__ += [
    "free_fall", "free_fall_grad", "constant", "constant_grad", "linear", "linear_grad", "power",
    "power_grad", "exponential", "exponential_grad", "logarithm", "logarithm_grad",
    "sigmoid_neuron_loss", "sigmoid_neuron_grads", "sigmoid_layer_loss", "sigmoid_layer_grads",
]


# TensorFlow's tape checked: tf_twins imports TensorFlow only when a check runs, never at import
from backprop_ref.tf_twins import check_tape  # noqa: E402

# isort: split
# The layers beyond the chapter (issue 14), backprop_ref.layers: the multiclass hinge loss, batch and layer
# norm, dropout, embeddings, conv2d, max and average pooling, the tanh RNN, the LSTM cell and attention.
from backprop_ref.layers import (  # noqa: E402
    attention_backward,
    attention_forward,
    avg_pool2d_backward,
    avg_pool2d_forward,
    batch_norm_backward,
    batch_norm_forward,
    conv2d_backward,
    conv2d_forward,
    dropout_backward,
    dropout_forward,
    embedding_backward,
    embedding_forward,
    layer_norm_backward,
    layer_norm_forward,
    lstm_cell_backward,
    lstm_cell_forward,
    max_pool2d_backward,
    max_pool2d_forward,
    multiclass_hinge,
    multiclass_hinge_grad,
    rnn_backward,
    rnn_forward,
)

__all__ += [
    "multiclass_hinge", "multiclass_hinge_grad", "batch_norm_forward", "batch_norm_backward",
    "layer_norm_forward", "layer_norm_backward", "dropout_forward", "dropout_backward",
    "embedding_forward", "embedding_backward", "conv2d_forward", "conv2d_backward",
    "max_pool2d_forward", "max_pool2d_backward", "avg_pool2d_forward", "avg_pool2d_backward",
    "rnn_forward", "rnn_backward", "lstm_cell_forward", "lstm_cell_backward",
    "attention_forward", "attention_backward",
]

# isort: split
# The activations and losses beyond the chapter (issue 14): GELU (exact and tanh forms), softplus, ELU,
# SELU, SiLU, binary cross-entropy with logits, Huber.
from backprop_ref.activations import (  # noqa: E402
    elu,
    elu_grad,
    selu,
    selu_grad,
    softplus,
    softplus_grad,
)
from backprop_ref.gated_activations import gelu, gelu_grad, silu, silu_grad  # noqa: E402
from backprop_ref.losses import (  # noqa: E402
    binary_cross_entropy_with_logits,
    binary_cross_entropy_with_logits_grad,
    huber,
    huber_grad,
)

__all__ += [
    "gelu", "gelu_grad", "softplus", "softplus_grad", "elu", "elu_grad", "selu", "selu_grad",
    "silu", "silu_grad", "binary_cross_entropy_with_logits", "binary_cross_entropy_with_logits_grad",
    "huber", "huber_grad",
]
