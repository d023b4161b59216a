"""The tf.distribute path on CPU: one step on 1 vs 2 replicas (two logical CPU devices) gives the same result.

Logical devices must be set before TensorFlow touches a device, so this runs in a fresh interpreter.
"""
import json
import subprocess
import sys
import textwrap
from pathlib import Path

SCRIPT = textwrap.dedent(
    """
    import json, sys
    import numpy as np
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    import keras
    from inpaint import config
    from inpaint.train import build_gan

    # Batch norm and dropout are set per replica; keep them out so the two runs compute the same thing.
    cfg = config.preset("lite").replace(image_size=(32, 32), gen_depth=3, gen_dropout=0.0, gen_norm="instance",
                                        disc_norm="none", batch_size=8)
    rng = np.random.default_rng(0)
    white = rng.uniform(-1, 1, (8, 32, 32, 1)).astype("float32")
    real = rng.uniform(-1, 1, (8, 32, 32, 1)).astype("float32")
    mask = np.zeros((8, 32, 32, 1), "float32"); mask[:, 16:24, 8:24] = 1
    white = np.where(mask > 0, 1.0, real).astype("float32")
    ds = tf.data.Dataset.from_tensor_slices((white, real, mask)).batch(8)

    def one_step(strategy, weights):
        with strategy.scope():
            keras.utils.set_random_seed(0)
            gan = build_gan(cfg)
            # Plain SGD: unlike Adam, its step is proportional to the gradient, so a sum over
            # replicas instead of a mean would show as a doubled update.
            gan.compile(g_optimizer=keras.optimizers.SGD(1.0), d_optimizer=keras.optimizers.SGD(1.0))
            if weights is not None:
                gan.generator.set_weights(weights[0]); gan.discriminator.set_weights(weights[1])
            start = (gan.generator.get_weights(), gan.discriminator.get_weights())
            logs = gan.fit(ds, epochs=1, verbose=0).history
        return start, {k: v[0] for k, v in logs.items()}, gan.generator.get_weights()

    start, one, w1 = one_step(tf.distribute.get_strategy(), None)
    two_strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    _, two, w2 = one_step(two_strategy, start)
    diff = max(float(np.abs(a - b).max()) for a, b in zip(w1, w2))
    moved = max(float(np.abs(a - b).max()) for a, b in zip(start[0], w1))
    print(json.dumps({"replicas": two_strategy.num_replicas_in_sync, "one": one, "two": two,
                      "weight_diff": diff, "weight_moved": moved}))
    print("diff", diff, "moved", moved, file=sys.stderr)
    """
)


def test_one_step_on_two_replicas_matches_one_replica():
    root = Path(__file__).resolve().parents[1]
    proc = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, cwd=root, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["replicas"] == 2
    for name in ("G_GAN", "G_L1", "D_real", "D_fake", "rmse"):
        assert abs(result["one"][name] - result["two"][name]) <= 1e-4 * max(1.0, abs(result["one"][name])), name
    # The update matches: gradients were averaged, not summed, across replicas.
    assert result["weight_moved"] > 1e-4
    assert result["weight_diff"] < 1e-3 * result["weight_moved"]
