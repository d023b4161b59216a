"""The architecture figure of a report: G and D drawn as blocks from the Keras graph, with matplotlib.

keras.utils.plot_model needs pydot and the Graphviz program, which a student's machine or a
notebook seldom has; this needs nothing the kit does not already install. A block is one
convolution (or an input) with the layers that follow it (normalisation, activation, dropout, the
concatenation of a skip); blocks sit left to right in graph order and one row lower per halving
of the image, so a U-Net draws as a U with its skips as dashed arrows across it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import keras

from inpaint.imaging import save_figure

HEADS = ("InputLayer", "Conv2D", "Conv2DTranspose", "UpSampling2D", "Concatenate")
PART_NAMES = {"BatchNormalization": "BatchNorm", "LeakyReLU": "LeakyReLU", "ReLU": "ReLU",
              "Dropout": "Dropout", "Activation": None, "Concatenate": "concat skip"}
AUTO_NAMES = ("conv2d", "up_sampling2d")  # Keras's own layer names: not worth showing
COLOURS = {"input": "#e8e8e8", "down": "#cfe2f3", "up": "#fce5cd", "join": "#e8e8e8"}


@dataclass
class Block:
    title: str
    kind: str  # input | down | up | join
    shape: tuple  # (rows, cols, channels) of the block's output
    parts: list[str] = field(default_factory=list)
    inputs: list[int] = field(default_factory=list)  # indices of the blocks it reads


def _conv_title(layer) -> tuple[str, str]:
    name = type(layer).__name__
    k, s = layer.kernel_size[0], layer.strides[0]
    kind = "up" if name == "Conv2DTranspose" else "down"
    title = ("ConvT" if kind == "up" else "Conv") + f" {k}x{k}" + (f" /{s}" if s > 1 else "")
    return title, kind


def blocks(model: keras.Model) -> list[Block]:
    """The model's layers grouped into blocks, in graph order, each knowing which blocks feed it."""
    out: list[Block] = []
    block_of: dict[int, int] = {}  # id of a layer's output tensor -> index of its block
    for layer in model.layers:
        name = type(layer).__name__
        inputs = layer.input if isinstance(layer.input, list) else [layer.input]
        sources = [block_of[id(t)] for t in inputs if id(t) in block_of]
        shape = tuple(layer.output.shape[1:])
        previous = out[-1] if out else None
        fold = name not in HEADS or (
            name == "Concatenate" and previous is not None and previous.kind != "input"
            and len(out) - 1 in sources) or (
            name == "Conv2D" and previous is not None and previous.title == "UpSample x2")
        if fold and previous is not None:
            part = PART_NAMES.get(name, name)
            if name == "Activation":
                part = str(layer.get_config().get("activation"))
            if part:
                previous.parts.append(part)
            previous.inputs += [s for s in sources if s != len(out) - 1 and s not in previous.inputs]
            previous.shape = shape
        elif name == "InputLayer":
            out.append(Block(f"input '{layer.name}'", "input", shape))
        elif name == "UpSampling2D":
            out.append(Block("UpSample x2", "up", shape, inputs=sources))
        elif name == "Concatenate":
            out.append(Block("concatenate", "join", shape, inputs=sources))
        else:
            title, kind = _conv_title(layer)
            named = [] if layer.name.startswith(AUTO_NAMES) else [f"'{layer.name}'"]  # e.g. D's 'logits'
            out.append(Block(title, kind, shape, named, inputs=sources))
        block_of[id(layer.output)] = len(out) - 1
    return out


def _levels(chain: list[Block]) -> list[float]:
    """Rows of the drawing: one lower per halving of the image's rows."""
    top = chain[0].shape[0]
    return [math.log2(top / b.shape[0]) if b.shape[0] else 0.0 for b in chain]


def _places(chain: list[Block]) -> list[tuple[float, float, float]]:
    """(x, y, box height) of each block. Several inputs (D's condition and image) share the first column."""
    inputs = next((i for i, b in enumerate(chain) if b.kind != "input"), len(chain))
    places = []
    for i, level in enumerate(_levels(chain)):
        if i < inputs and inputs > 1:
            step = 0.8 / inputs
            places.append((0.0, -level + 0.4 - step * (i + 0.5), step * 0.85))
        else:
            places.append((float(i - max(inputs - 1, 0)), -level, 0.72))
    return places


def _draw(ax, chain: list[Block], title: str, columns: int) -> None:
    from matplotlib.patches import FancyBboxPatch

    places = _places(chain)
    width = 0.86
    for i, (block, (x, y, height)) in enumerate(zip(chain, places)):
        ax.add_patch(FancyBboxPatch((x - width / 2, y - height / 2), width, height,
                                    boxstyle="round,pad=0.02", fc=COLOURS[block.kind], ec="#555555", lw=0.8))
        text = [block.title, "x".join(str(s) for s in block.shape), *block.parts]
        ax.text(x, y, "\n".join(text), ha="center", va="center", fontsize=5.5)
        for source in block.inputs:
            sx, sy, _ = places[source]
            skip = sx < x - 1  # not from the column just before: a skip connection
            ax.annotate("", xy=(x - width / 2, y), xytext=(sx + width / 2, sy),
                        arrowprops=dict(arrowstyle="->", lw=0.8, color="#1f77b4" if skip else "#333333",
                                        linestyle="--" if skip else "-"))
    ax.set_xlim(-0.6, columns - 0.4)
    ax.set_ylim(min(y for _, y, _ in places) - 0.6, 0.6)
    ax.set_title(title, fontsize=9)
    ax.axis("off")


def draw_architecture(generator: keras.Model, discriminator: keras.Model, path: Path) -> None:
    """architecture.png: the generator above the discriminator, each block with its output shape."""
    from matplotlib.figure import Figure  # not pyplot: no display needed, a notebook's figures left alone

    g, d = blocks(generator), blocks(discriminator)
    rows = [len(set(_levels(c))) for c in (g, d)]
    columns = max(len(g), len(d))
    fig = Figure(figsize=(columns * 0.95 + 1, sum(rows) * 0.95 + 1.2), layout="tight")
    axes = fig.subplots(2, 1, gridspec_kw={"height_ratios": rows})
    _draw(axes[0], g, f"Generator (U-Net): {generator.count_params():,} parameters; "
                      "dashed arrows: skip connections, concatenated", columns)
    patches = "x".join(str(s) for s in d[-1].shape[:2])
    _draw(axes[1], d, f"Discriminator (PatchGAN on the (White, image) pair): {discriminator.count_params():,} "
                      f"parameters; a {patches} map of real/fake logits, one per patch", columns)
    save_figure(fig, path, dpi=130)
