"""Pix2Pix as one keras.Model: `fit` brings progress bars, callbacks, history and tf.distribute.

One compiled step = (d_steps - 1) discriminator-only updates, then one fused update in
which a single generator forward pass feeds both the discriminator's and the
generator's gradients (as in TensorFlow's pix2pix tutorial). The course deck's loop
runs the generator forward twice per iteration (predict, then inside the combined model)
and the discriminator in three separate calls; BENCHMARKS.md measures the difference.
"""
from __future__ import annotations

import keras
import tensorflow as tf

from inpaint import crops, losses
from inpaint.config import Config
from inpaint.imaging import to_metric
from inpaint.masks import composite
from inpaint.models import build_discriminator, build_generator

# The vocabulary of logs, plots and reports (after the reference pix2pix's loss names).
LOSS_NAMES = ("G_GAN", "G_L1", "D_real", "D_fake")


def build_gan(cfg: Config) -> "Pix2Pix":
    """G, D, optimizers and the compiled Pix2Pix of a config; call inside the strategy scope."""
    keras.mixed_precision.set_global_policy("mixed_float16" if cfg.mixed_precision else "float32")
    generator, discriminator = build_generator(cfg), build_discriminator(cfg)
    gan = Pix2Pix(generator, discriminator, cfg)
    gan.compile(
        g_optimizer=_optimizer(cfg, generator.trainable_variables),
        d_optimizer=_optimizer(cfg, discriminator.trainable_variables),
        jit_compile=cfg.jit_compile,
    )
    return gan


def _optimizer(cfg: Config, variables) -> keras.optimizers.Optimizer:
    opt = keras.optimizers.Adam(cfg.learning_rate, beta_1=cfg.beta_1)
    if cfg.mixed_precision:
        opt = keras.optimizers.LossScaleOptimizer(opt)
    opt.build(variables)  # built now so a checkpoint restores slots instead of deferring them
    return opt


class Pix2Pix(keras.Model):
    def __init__(self, generator: keras.Model, discriminator: keras.Model, cfg: Config, **kwargs):
        # float32 here: under mixed_float16 Keras would cast this wrapper's inputs (mask, White) to
        # float16, while G and D compute in float16 inside and hand back float32 outputs.
        super().__init__(dtype="float32", **kwargs)
        self.generator = generator
        self.discriminator = discriminator
        self.cfg = cfg
        self.trackers = {name: keras.metrics.Mean(name=name) for name in LOSS_NAMES}
        self.rmse = keras.metrics.RootMeanSquaredError(name="rmse")
        # On windows around the box the RMSE is rescaled to the whole face's, the figure Kaggle scores.
        self.rmse_scale = crops.metric_scale(cfg.crop_size, cfg.image_size)
        # Polyak averaging of G's weights: the average of a noisy GAN trajectory generalises better
        # than its last point (BENCHMARKS.md, real photographs). It validates, is kept and predicts.
        self.ema_generator = None
        if cfg.ema_decay > 0:
            self.ema_generator = keras.models.clone_model(generator)
            self.ema_generator.set_weights(generator.get_weights())
            # The backend's tf.Variables (.value): what tf.distribute updates per replica.
            self._ema_pairs = [(a.value, w.value) for a, w in zip(self.ema_generator.weights, generator.weights)
                               if "float" in str(w.dtype)]
        # G and D arrive built; without this Keras would trace call() on a bare input to build it.
        self.built = True

    def compile(self, g_optimizer, d_optimizer, **kwargs):
        super().compile(**kwargs)
        self.g_optimizer = g_optimizer
        self.d_optimizer = d_optimizer

    @property
    def metrics(self):
        # Listed here so fit() resets them at every epoch.
        return [*self.trackers.values(), self.rmse]

    @property
    def inference_generator(self) -> keras.Model:
        """The generator that validates and predicts: the weight average when there is one."""
        return self.ema_generator if self.ema_generator is not None else self.generator

    def call(self, inputs, training=False, generator=None):
        """(white, mask) in model space -> the inpainted image in model space."""
        white, mask = inputs
        generated = (generator or self.generator)(white, training=training)
        return composite(generated, white, mask) if self.cfg.composite else generated

    def _d_loss(self, real_logits, fake_logits):
        """(D_real, D_fake) as logged, and the loss D's update uses: their mean."""
        kind = self.cfg.adversarial
        d_real, d_fake = losses.d_real_loss(kind, real_logits), losses.d_fake_loss(kind, fake_logits)
        return d_real, d_fake, losses.adversarial_d_loss(kind, real_logits, fake_logits)

    def _update_ema(self):
        # Warm-up (as tf.train.ExponentialMovingAverage's num_updates): early on the average
        # follows the weights closely instead of clinging to the random initialisation.
        step = tf.cast(self.g_optimizer.iterations, tf.float32)
        decay = tf.minimum(self.cfg.ema_decay, (1.0 + step) / (10.0 + step))

        def update(strategy):
            # Cross-replica: mirrored weights are equal on every replica after the synchronised step,
            # so each replica's copy of the average takes the same update.
            for average, weight in self._ema_pairs:
                strategy.extended.update(
                    average, lambda a, w: a.assign(decay * a + (1.0 - decay) * tf.cast(w, a.dtype)), args=(weight,))

        tf.distribute.get_replica_context().merge_call(update)

    def _update_rmse(self, real, fake):
        scale = self.rmse_scale
        self.rmse.update_state(scale * to_metric(real), scale * to_metric(tf.cast(fake, tf.float32)))

    def _replica_mean(self, loss):
        # Keras sums gradients over replicas; dividing here keeps the update a batch mean.
        return loss / tf.distribute.get_strategy().num_replicas_in_sync

    def _d_update(self, white, real, fake):
        with tf.GradientTape() as tape:
            real_logits = self.discriminator([white, real], training=True)
            fake_logits = self.discriminator([white, fake], training=True)
            d_loss = losses.adversarial_d_loss(self.cfg.adversarial, real_logits, fake_logits)
            scaled = self.d_optimizer.scale_loss(self._replica_mean(d_loss))
        variables = self.discriminator.trainable_variables
        self.d_optimizer.apply_gradients(zip(tape.gradient(scaled, variables), variables))

    def _g_losses(self, real, fake, fake_logits, mask):
        cfg = self.cfg
        g_gan = losses.adversarial_g_loss(cfg.adversarial, fake_logits)
        g_l1 = losses.masked_l1(real, fake, mask, cfg.hole_weight)
        total = cfg.lambda_adv * g_gan + cfg.lambda_l1 * g_l1
        if cfg.lambda_l2:
            total += cfg.lambda_l2 * losses.masked_l2(real, fake, mask, cfg.hole_weight)
        return g_gan, g_l1, total

    def train_step(self, data):
        white, real, mask = data  # inpaint/pipeline.py
        g_inputs = [white, mask]
        for _ in range(self.cfg.d_steps - 1):
            self._d_update(white, real, tf.stop_gradient(self(g_inputs, training=True)))

        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            fake = self(g_inputs, training=True)
            real_logits = self.discriminator([white, real], training=True)
            fake_logits = self.discriminator([white, fake], training=True)
            d_real, d_fake, d_loss = self._d_loss(real_logits, fake_logits)
            d_scaled = self.d_optimizer.scale_loss(self._replica_mean(d_loss))
            g_gan, g_l1, g_total = self._g_losses(real, fake, fake_logits, mask)
            g_scaled = self.g_optimizer.scale_loss(self._replica_mean(g_total))
        g_vars = self.generator.trainable_variables
        d_vars = self.discriminator.trainable_variables
        g_grads = g_tape.gradient(g_scaled, g_vars)
        d_grads = d_tape.gradient(d_scaled, d_vars)
        self.g_optimizer.apply_gradients(zip(g_grads, g_vars))
        self.d_optimizer.apply_gradients(zip(d_grads, d_vars))
        if self.ema_generator is not None:
            self._update_ema()

        for name, value in zip(LOSS_NAMES, (g_gan, g_l1, d_real, d_fake)):
            self.trackers[name].update_state(value)
        self._update_rmse(real, fake)
        return {m.name: m.result() for m in self.metrics}

    def test_step(self, data):
        """Validation: composited output, RMSE in metric space (what Kaggle scores), and the losses."""
        white, real, mask = data
        fake = self([white, mask], training=False, generator=self.inference_generator)
        real_logits = self.discriminator([white, real], training=False)
        fake_logits = self.discriminator([white, fake], training=False)
        g_gan, g_l1, _ = self._g_losses(real, fake, fake_logits, mask)
        values = (g_gan, g_l1, losses.d_real_loss(self.cfg.adversarial, real_logits),
                  losses.d_fake_loss(self.cfg.adversarial, fake_logits))
        for name, value in zip(LOSS_NAMES, values):
            self.trackers[name].update_state(value)
        self._update_rmse(real, fake)
        return {m.name: m.result() for m in (*self.trackers.values(), self.rmse)}
