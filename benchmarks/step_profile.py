"""`inpaint bench profile`: where one train step's time goes, op by op.

Traces a few of the kit's compiled train steps (`bench.KitStep`) with TensorFlow's profiler and
sums the duration of every executed op from the trace (`.xplane.pb`), grouped three ways:
by op type (Conv2DBackpropInput, Sum, ...), by the layer type the op belongs to (read from its
name scope: conv2d, batch_normalization, ...), and by network (G, D) and pass (forward,
backward, optimizer). Shares are of the summed op time: ops of the two inter-op threads overlap,
so op time exceeds wall time.

A transposed convolution's forward pass is the op Conv2DBackpropInput: the pass is read from the
scope (`gradient_tape/...` is backward), never from the op's name.
"""
from __future__ import annotations

import collections
import re
import tempfile
import time
from pathlib import Path

from inpaint import config


def trace(cfg: config.Config, batch: int = 8, steps: int = 10, warmup: int = 3) -> tuple[bytes, float]:
    """The serialised XSpace of `steps` traced train steps, and their wall seconds."""
    import tensorflow as tf

    from benchmarks.training import KitStep

    step = KitStep(cfg, batch)
    step.run(warmup)  # tracing and the first calls' kernel choice are not what a run pays per step
    with tempfile.TemporaryDirectory() as logdir:
        tf.profiler.experimental.start(logdir)
        start = time.perf_counter()
        try:
            step.run(steps)
            seconds = time.perf_counter() - start
        finally:
            tf.profiler.experimental.stop()
        (pb,) = Path(logdir).rglob("*.xplane.pb")
        return pb.read_bytes(), seconds


def op_events(xspace: bytes):
    """(scope, op type, picoseconds) of every op the executor ran on the host."""
    from tensorflow.tsl.profiler.protobuf import xplane_pb2

    space = xplane_pb2.XSpace()
    space.ParseFromString(xspace)
    for plane in space.planes:
        if plane.name != "/host:CPU":
            continue
        for line in plane.lines:
            if not line.name.startswith("tf_Compute"):  # the executor's threads; Eigen's run inside those ops
                continue
            for event in line.events:
                name = plane.event_metadata[event.metadata_id].name
                if ":" not in name or "::" in name:  # "scope:OpType"; "A::B" are the runtime's own regions
                    continue
                scope, kind = name.rsplit(":", 1)
                yield scope, kind, event.duration_ps


def _op_type(kind: str) -> str:
    return re.sub(r"^_(MklNative|Mkl)", "", kind)  # oneDNN's kernels carry a prefix; the op is the same


def _network(scope: str) -> str:
    return "G" if "/generator" in scope else "D" if "/discriminator" in scope else "other"


def _pass(scope: str, kind: str) -> str:
    if "gradient_tape/" in scope:
        return "backward"
    if "/adam/" in scope or kind.startswith(("ResourceApply", "AssignVariable", "AssignAddVariable")):
        return "optimizer"
    return "forward"


def _layer_type(scope: str) -> str:
    """The layer an op sits in, without Keras's numbering: .../generator_1/conv2d_transpose_2_1/... -> conv2d_transpose."""
    match = re.search(r"/(?:generator|discriminator)[^/]*/([^/]+)", scope)
    if not match:
        return "(outside the networks: losses, optimizer)"
    return re.sub(r"(_\d+)+$", "", match.group(1))


def breakdown(events) -> dict[str, list[tuple[str, float]]]:
    """Shares of op time by op type, by layer type and by network x pass, largest first."""
    groups = {"op type": collections.Counter(), "layer type": collections.Counter(),
              "network, pass": collections.Counter()}
    total = 0
    for scope, kind, ps in events:
        groups["op type"][_op_type(kind)] += ps
        groups["layer type"][_layer_type(scope)] += ps
        groups["network, pass"][f"{_network(scope)} {_pass(scope, kind)}"] += ps
        total += ps
    return {name: [(key, value / total) for key, value in counter.most_common()] for name, counter in groups.items()}


def profile(cfg: config.Config, batch: int = 8, steps: int = 10, top: int = 12) -> tuple[list[dict], dict]:
    """Rows for `inpaint bench profile` (the largest `top` groups of each kind, each with its share of
    op time, then the rest), and the traced steps' wall and summed op seconds."""
    xspace, seconds = trace(cfg, batch, steps)
    events = list(op_events(xspace))
    rows = []
    for group, shares in breakdown(events).items():
        rest = sum(share for _, share in shares[top:])
        for name, share in shares[:top] + ([("(the rest)", rest)] if rest else []):
            rows.append({"group": group, "name": name, "share": round(share, 4)})
    times = {"steps": steps, "batch": batch, "wall_s": round(seconds, 3),
             "op_s": round(sum(ps for *_, ps in events) / 1e12, 3)}
    return rows, times
