"""Keras' BatchNormalization, computed by TensorFlow's fused kernel (FusedBatchNormV3).

Keras 3 normalises on the TensorFlow backend with separate reductions and element-wise ops
(with `synchronized=True`, as the kit asks, even on one device: a sum of x, of x**2 and of a
tensor of ones, each with its own backward pass). TensorFlow's fused op does the same in one
kernel forward and one backward, which oneDNN implements; `inpaint bench profile` measured where
that time went (BENCHMARKS.md, "Against the machine's limit").

What is learned does not change: the same variables (gamma, beta, moving_mean,
moving_variance), the same normalisation by the biased batch variance, the same update of the
moving statistics. The class keeps Keras' name because Keras files weights under the snake-cased
class name: a run folder's weights load into either layer.
"""
from __future__ import annotations

import keras
from keras import layers


class BatchNormalization(layers.BatchNormalization):
    """`keras.layers.BatchNormalization` on 4-D channels-last input through FusedBatchNormV3.

    Anything the fused op does not express (another axis or rank, masks, renorm, statistics
    synchronised over several replicas, another backend) goes through Keras' own code.
    """

    def _fusable(self, inputs, mask) -> bool:
        if keras.backend.backend() != "tensorflow" or mask is not None or self.renorm:
            return False
        if len(inputs.shape) != 4 or self.axis not in (-1, 3):
            return False
        import tensorflow as tf

        # Synchronised statistics over replicas need Keras' all-reduced sums; one replica has nothing to sync.
        return not (self.synchronized and tf.distribute.get_strategy().num_replicas_in_sync > 1)

    def call(self, inputs, training=None, mask=None):
        if not self._fusable(inputs, mask):
            return super().call(inputs, training=training, mask=mask)
        import tensorflow as tf

        # As Keras: statistics in float32 whatever the compute dtype (float16 overflows).
        x = tf.cast(inputs, "float32")
        channels = x.shape[-1]
        gamma = self.gamma if self.scale else tf.ones((channels,), "float32")
        beta = self.beta if self.center else tf.zeros((channels,), "float32")
        if training and self.trainable:
            none = tf.constant([], "float32")  # in training the op computes the batch's statistics itself
            y, mean, variance, *_ = tf.raw_ops.FusedBatchNormV3(x=x, scale=gamma, offset=beta, mean=none, variance=none,
                                                                epsilon=self.epsilon, is_training=True)
            # The op returns the unbiased (n - 1) batch variance for running averages; Keras averages the
            # biased one, which is also what y was normalised with.
            count = tf.cast(tf.size(x) // channels, "float32")
            variance = variance * (count - 1.0) / count
            self.moving_mean.assign(self.moving_mean * self.momentum + mean * (1.0 - self.momentum))
            self.moving_variance.assign(self.moving_variance * self.momentum + variance * (1.0 - self.momentum))
        else:
            y, *_ = tf.raw_ops.FusedBatchNormV3(x=x, scale=gamma, offset=beta, mean=self.moving_mean,
                                                variance=self.moving_variance, epsilon=self.epsilon, is_training=False)
        return tf.cast(y, self.compute_dtype)
