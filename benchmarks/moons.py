"""The moons demo's training time, and the same network trained through tf.GradientTape.

    python benchmarks/moons.py [--repeats 3] [--compare-steps 200] [--out benchmarks/MOONS.md]

1. Times `backprop_ref.demos.moons` (Backward Propagation Algorithm §7.9: 2-25-50-25-2 sigmoid MLP,
   MSE on one-hot targets, mini-batch gradient descent by the delta recursion): total time and time to
   95% test accuracy.
2. Trains the same network from the same initial weights on the same mini-batches with TensorFlow
   (float64 variables, the loss's gradient from tf.GradientTape, the same plain update), eagerly
   and under tf.function, and compares the per-step loss curves with ours: they must agree to
   1e-9 over the first steps (the two differ only in floating-point rounding, which the chaotic
   dynamics of training at lr 2 amplify slowly, so the agreement is reported over longer spans too).

Prints a Markdown table and writes it to --out.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

from backprop_ref import demos, tf_twins
from backprop_ref.network import MLP

AGREE = 1e-9
FIRST = 100  # "the first steps" over which the loss curves must agree to AGREE


def data(seed: int):
    """The demo's data and split, drawn exactly as `demos.moons` draws them."""
    rng = np.random.default_rng(seed)
    X, y = demos.make_moons(2000, 0.2, rng=rng)
    order = rng.permutation(len(X))
    n_test = round(0.3 * len(X))
    test, train = order[:n_test], order[n_test:]
    return X[train], np.eye(2)[y[train]], X[test], y[test]


def batches(seed: int, epochs: int, rows: int, size: int):
    """The mini-batches `MLP.fit(..., epochs=1, batch_size=size, seed=seed + epoch)` visits."""
    for epoch in range(epochs):
        order = np.random.default_rng(seed + epoch).permutation(rows)
        for start in range(0, rows, size):
            yield epoch, order[start:start + size]


def ours(seed: int, steps: int | None):
    """Per-step losses of our delta recursion, stepping exactly as MLP.fit does."""
    Xtr, Ytr, _, _ = data(seed)
    model = MLP.init(list(demos.MOONS_SIZES), ["sigmoid"] * 4, "mse", seed=seed)
    losses = []
    for _, batch in batches(seed, demos.MOONS_EPOCHS, len(Xtr), demos.MOONS_BATCH):
        if steps is not None and len(losses) == steps:
            break
        loss, grads = model.loss_and_grads(Xtr[batch], Ytr[batch])
        losses.append(float(loss))
        model.params = [(W - demos.MOONS_LR * dW, b - demos.MOONS_LR * db)
                        for (W, b), (dW, db) in zip(model.params, grads)]
    return np.array(losses)


def tensorflow_training(seed: int, steps: int | None, compiled: bool):
    """Per-step losses, test accuracy per epoch and time, training through tf.GradientTape."""
    tf = tf_twins.tensorflow()
    Xtr, Ytr, Xte, yte = data(seed)
    init = MLP.init(list(demos.MOONS_SIZES), ["sigmoid"] * 4, "mse", seed=seed)
    params = [tf.Variable(p, dtype=tf.float64) for pair in init.params for p in pair]
    lr = tf.constant(demos.MOONS_LR, dtype=tf.float64)

    def forward(x):
        a = x
        for W, b in zip(params[::2], params[1::2]):
            a = tf.math.sigmoid(tf.matmul(a, W) + b)
        return a

    def step(x, y):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(0.5 * tf.reduce_sum(tf.square(forward(x) - y), axis=-1))
        for p, g in zip(params, tape.gradient(loss, params)):
            p.assign_sub(lr * g)
        return loss

    if compiled:
        step = tf.function(step, reduce_retracing=True)
    Xtr_t, Ytr_t, Xte_t = (tf.constant(a, dtype=tf.float64) for a in (Xtr, Ytr, Xte))
    losses, accuracy = [], []
    reached = None
    start = time.perf_counter()
    last_epoch = 0
    for epoch, batch in batches(seed, demos.MOONS_EPOCHS, len(Xtr), demos.MOONS_BATCH):
        if steps is not None and len(losses) == steps:
            break
        if epoch != last_epoch:
            accuracy.append(float(np.mean(np.argmax(forward(Xte_t).numpy(), axis=1) == yte)))
            if reached is None and accuracy[-1] >= demos.MOONS_TARGET:
                reached = (last_epoch + 1, time.perf_counter() - start)
            last_epoch = epoch
        idx = tf.constant(batch)
        losses.append(float(step(tf.gather(Xtr_t, idx), tf.gather(Ytr_t, idx))))
    if steps is None:
        accuracy.append(float(np.mean(np.argmax(forward(Xte_t).numpy(), axis=1) == yte)))
        if reached is None and accuracy[-1] >= demos.MOONS_TARGET:
            reached = (last_epoch + 1, time.perf_counter() - start)
    return np.array(losses), accuracy, reached, time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--compare-steps", type=int, default=None,
                        help="steps of the loss curves to compare (default: all)")
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("MOONS.md"))
    args = parser.parse_args(argv)

    load = os.getloadavg()[0]
    runs = []
    for i in range(args.repeats):
        r = demos.moons(seed=args.seed)
        runs.append(r)
        print(f"ours, run {i + 1}: {r.seconds:.2f} s, 95% at epoch {r.epoch_reached} "
              f"({r.seconds_to_target:.2f} s), test accuracy {r.final_accuracy:.2%}", file=sys.stderr)
    best = min(runs, key=lambda r: r.seconds)

    lines = [
        "# Two moons (Backward Propagation Algorithm §7.9): training time, and the same network through "
        "tf.GradientTape", "",
        f"Machine: {os.cpu_count()} CPUs, {platform.machine()}, Python {platform.python_version()}, "
        f"NumPy {np.__version__}" + (f", TensorFlow {tf_twins.tensorflow().__version__}"
                                     if tf_twins.available() else "") + ".",
        f"Load average before the run: {load:.1f} (other jobs on the machine slow every row alike; "
        f"compare rows, and rerun on a quiet machine for absolute times).",
        f"Run: `python benchmarks/moons.py --seed {args.seed} --repeats {args.repeats}` "
        f"(writes this file).", "",
        f"Network 2-25-50-25-2, sigmoid everywhere, MSE on one-hot targets; 1400 training / 600 test "
        f"points; lr {demos.MOONS_LR}, batch {demos.MOONS_BATCH}, {demos.MOONS_EPOCHS} epochs "
        f"({demos.MOONS_EPOCHS * -(-1400 // demos.MOONS_BATCH)} steps).", "",
        "| trainer | time to 95% test accuracy | total time | epoch reaching 95% | final test accuracy |",
        "| --- | ---: | ---: | ---: | ---: |",
        f"| backprop_ref (NumPy, delta recursion; best of {args.repeats}) | {best.seconds_to_target:.2f} s "
        f"| {best.seconds:.2f} s | {best.epoch_reached} | {best.final_accuracy:.2%} |",
    ]
    notes = []
    if tf_twins.available():
        tf_twins.tensorflow()   # quietly: no oneDNN or absl lines on stderr
        reference = ours(args.seed, args.compare_steps)
        for compiled in (False, True):
            name = "tf.GradientTape under tf.function" if compiled else "tf.GradientTape, eager"
            tf_losses, acc, reached, seconds = tensorflow_training(args.seed, None, compiled)
            n = min(len(reference), len(tf_losses))
            diff = np.abs(tf_losses[:n] - reference[:n])
            spans = {k: float(diff[:k].max()) for k in (10, 100, 1000, n) if k <= n}
            agree = spans[FIRST] <= AGREE
            print(f"{name}: {seconds:.2f} s, loss curve max |diff| "
                  + ", ".join(f"first {k}: {v:.1e}" for k, v in spans.items()), file=sys.stderr)
            reach_t = f"{reached[1]:.2f} s" if reached else "never"
            reach_e = str(reached[0]) if reached else "—"
            lines.append(f"| {name} (same initial weights and batches) | {reach_t} | {seconds:.2f} s "
                         f"| {reach_e} | {acc[-1]:.2%} |")
            notes.append(f"- {name}: per-step training loss against ours, max |difference| "
                         + ", ".join(f"over the first {k} steps {v:.1e}" for k, v in spans.items())
                         + f": {'agrees' if agree else 'DISAGREES'} to {AGREE:g} over the first "
                         f"{FIRST} steps.")
    else:
        notes.append("- TensorFlow is not installed: the tape comparison was skipped.")
    lines += [""] + notes
    text = "\n".join(lines) + "\n"
    print(text)
    args.out.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
