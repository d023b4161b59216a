"""How surely the discriminator tells real from generated pairs, on training and on held-out pairs.

A discriminator that has learnt a small training set by heart calls its training pairs right with
certainty while on held-out pairs its verdicts drift back toward chance: the curves of the two part,
and from then on its gradient teaches the generator little that carries over to new faces. Every
epoch this logs D's mean output on real and on generated pairs, for as many training pairs as
there are validation pairs (up to 64) and for the validation pairs, measured alike: without
augmentation, and as D judges while it trains (batch statistics, real and generated pairs in
separate shuffled batches of the training batch size; its moving averages are left as they
were). In inference mode the kit's D hardly separates either set: what it learns leans on batch
statistics.

    D_out_real, D_out_fake            training pairs
    val_D_out_real, val_D_out_fake    validation pairs

(LSGAN: D's raw output, 1 = real and 0 = generated; BCE: the sigmoid of its logit; hinge: raw, +-1.)
log.csv gets the four columns; TensorBoard draws each name's training and validation curves in one
chart; `inpaint report` plots them (d_separation.png).
"""
from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from inpaint.pipeline import model_inputs

NAMES = ("D_out_real", "D_out_fake")


class DSeparation(keras.callbacks.Callback):
    """`train` and `val` are (white, real, mask[, filled]) arrays in [0, 1], as the networks see them."""

    def __init__(self, train: tuple, val: tuple, batch_size: int):
        super().__init__()
        self.sets = {"": self._tensors(train), "val_": self._tensors(val)}
        self.batch_size = batch_size

    def set_model(self, model):
        super().set_model(model)
        # Traced once per batch shape: run eagerly, the ~20 small calls of D per epoch cost more in
        # Python dispatch than in arithmetic (2.5 s an epoch on the loaded 2-core machine, BENCHMARKS.md).
        self._generate = tf.function(lambda inputs: model(inputs, training=False, generator=model.inference_generator))
        self._judge = tf.function(lambda white, image: model.discriminator([white, image], training=True))

    @staticmethod
    def _tensors(arrays: tuple):
        # Shuffled once: with batch statistics a batch of one person's photos (neighbours in name
        # order) is judged unlike the mixed batches D trains on.
        order = np.random.default_rng(0).permutation(len(arrays[0]))
        white, real, mask, *filled = (x[order] for x in arrays)
        inputs = model_inputs(white, mask, *filled)
        return inputs, model_inputs(real, mask)[0]

    def _verdict(self, white, image) -> float:
        outputs = []
        for start in range(0, int(white.shape[0]), self.batch_size):
            part = slice(start, start + self.batch_size)
            outputs.append(tf.cast(self._judge(white[part], image[part]), tf.float32))
        out = tf.concat(outputs, axis=0)
        if self.model.cfg.adversarial == "bce":
            out = tf.sigmoid(out)
        return float(np.mean(out))

    def on_epoch_end(self, epoch, logs=None):
        if logs is None:
            return
        discriminator = self.model.discriminator
        moving = [v.numpy() for v in discriminator.non_trainable_variables]  # training mode updates them
        for prefix, (inputs, real) in self.sets.items():
            if not int(real.shape[0]):
                continue
            fake = self._generate(inputs)
            logs[prefix + NAMES[0]] = self._verdict(inputs[0], real)
            logs[prefix + NAMES[1]] = self._verdict(inputs[0], fake)
        for variable, value in zip(discriminator.non_trainable_variables, moving):
            variable.assign(value)
