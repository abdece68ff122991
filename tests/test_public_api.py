"""The public names are a contract: they exist at the top level, as plain functions, and importing
the package stays light (no TensorFlow, no hypothesis)."""

from __future__ import annotations

import importlib
import inspect
import subprocess
import sys

import pytest

import backprop_ref

# The names issues 3 and 4 promise at the top level of backprop_ref.
FUNCTIONS = [
    "sigmoid", "sigmoid_grad", "tanh", "tanh_grad", "relu", "relu_grad", "leaky_relu", "leaky_relu_grad",
    "softmax", "log_softmax", "softmax_jacobian",
    "mse", "mse_grad", "softmax_cross_entropy", "softmax_cross_entropy_grad", "cross_entropy",
    "cross_entropy_grad", "dense_forward", "dense_backward", "himmelblau", "himmelblau_grad",
    "check_grad", "assert_grad", "check_jacobian", "assert_jacobian", "numerical_grad",
    "numerical_jacobian",
    "taylor_test", "quadratic_objective", "quadratic_objective_grad", "exponential_objective",
    "exponential_objective_grad", "squared_error_objective", "squared_error_objective_grad",
    "log_objective", "log_objective_grad", "chain_rule_z", "chain_rule_z_grad", "linear_chain",
    "linear_chain_grad", "one_layer_loss", "one_layer_grad", "two_layer_loss", "two_layer_grads",
    # issue 12: the user's own code in one call
    "check_vjp", "assert_vjp", "check_jvp", "assert_jvp", "check_adjoint", "assert_adjoint",
    "check_elementwise", "assert_elementwise", "check_tape",
    # issue 14: the chapter's records and the reference beyond it
    "free_fall", "free_fall_grad", "constant", "constant_grad", "linear", "linear_grad", "power",
    "power_grad", "exponential", "exponential_grad", "logarithm", "logarithm_grad",
    "sigmoid_neuron_loss", "sigmoid_neuron_grads", "sigmoid_layer_loss", "sigmoid_layer_grads",
    "gelu", "gelu_grad", "softplus", "softplus_grad", "elu", "elu_grad", "selu", "selu_grad", "silu",
    "silu_grad", "binary_cross_entropy_with_logits", "binary_cross_entropy_with_logits_grad", "huber",
    "huber_grad", "multiclass_hinge", "multiclass_hinge_grad", "batch_norm_forward", "batch_norm_backward",
    "layer_norm_forward", "layer_norm_backward", "dropout_forward", "dropout_backward", "embedding_forward",
    "embedding_backward", "conv2d_forward", "conv2d_backward", "max_pool2d_forward", "max_pool2d_backward",
    "avg_pool2d_forward", "avg_pool2d_backward", "rnn_forward", "rnn_backward", "lstm_cell_forward",
    "lstm_cell_backward", "attention_forward", "attention_backward",
]


def test_every_public_function_is_listed_here():
    classes = {"MLP", "GradCheckResult", "InconclusiveCheck", "Kink", "TaylorResult"}
    assert set(backprop_ref.__all__) - classes == set(FUNCTIONS)
    assert len(FUNCTIONS) == len(set(FUNCTIONS))


@pytest.mark.no_mutmut
@pytest.mark.parametrize("name", FUNCTIONS)
def test_each_name_is_a_plain_module_level_function(name):
    f = getattr(backprop_ref, name)
    assert name in backprop_ref.__all__
    # not a closure, a lambda, a partial or an instance: mutation testers and debuggers patch it by name
    assert inspect.isfunction(f) and f.__qualname__ == name and f.__closure__ is None
    home = importlib.import_module(f.__module__)
    assert home.__name__.startswith("backprop_ref.") and getattr(home, name) is f


def test_mlp_is_a_class_with_plain_methods():
    cls = backprop_ref.MLP
    assert inspect.isclass(cls)
    for method in ("forward", "predict", "fit", "loss_and_grads"):
        assert inspect.isfunction(getattr(cls, method)), method
    assert isinstance(inspect.getattr_static(cls, "init"), (classmethod, staticmethod))


def test_all_lists_only_what_exists():
    assert [n for n in backprop_ref.__all__ if not hasattr(backprop_ref, n)] == []


def test_the_softmax_module_is_still_reachable_beside_the_function():
    # backprop_ref.softmax is the function; the module of the same name is imported by its path.
    module = importlib.import_module("backprop_ref.softmax")
    assert inspect.ismodule(module) and module.softmax is backprop_ref.softmax


def test_importing_the_package_imports_neither_tensorflow_nor_hypothesis():
    code = ("import sys, backprop_ref, backprop_ref.catalogue, backprop_ref.audit; "
            "print(sorted(m for m in ('tensorflow', 'hypothesis') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
