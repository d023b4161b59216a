"""One worker of the multi-worker tests (tests/test_multi_worker.py): train, then save the generator's weights.

Run as: python distributed_worker.py DATA RUN WEIGHTS.npz '{"epochs": 2, "resume": false, ...}' with TF_CONFIG set.
Not a test module: the tests start two of these as separate processes, as two machines would.
"""
import json
import sys
from pathlib import Path

import keras
import numpy as np

from inpaint import config
from inpaint.data import load_data
from inpaint.training import train

SIZE = (32, 32)


def worker_config(**changes) -> config.Config:
    # No normalisation and no dropout: the same computation whether a batch of 4 is one
    # replica's or split 2 + 2 over two workers (batch statistics and dropout masks are per replica).
    return config.preset("lite").replace(image_size=SIZE, gen_depth=3, batch_size=4, val_fraction=0.2, gen_dropout=0.0,
                                         gen_norm="none", disc_norm="none", sample_every=100, **changes)


class SaveGeneratorAtEnd(keras.callbacks.Callback):
    def __init__(self, path):
        super().__init__()
        self.path = path

    def on_train_end(self, logs=None):
        np.savez(self.path, *self.model.generator.get_weights())


def main(data_dir, run, weights_out, options):
    options = json.loads(options)
    resume, timeout = options.pop("resume", False), options.pop("collective_timeout", None)
    data = load_data(Path(data_dir), size=SIZE)
    state = train(data, Path(run), worker_config(**options), resume=resume, verbose=0,
                  callbacks=[SaveGeneratorAtEnd(weights_out)], collective_timeout=timeout)
    print("STATE " + json.dumps(state), flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:])
