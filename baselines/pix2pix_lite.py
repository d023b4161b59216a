"""The course deck's "simplified pix2pix" (its strong baseline, Kaggle RMSE 0.03568), rebuilt exactly.

The networks come from the kit's own factories (inpaint.models) and train with the kit's
own train_step; only the config differs. Deck architecture:
  G: Conv2D(4, k4, s2) + LeakyReLU(0.2); Conv2D 8, 16, 32, 32 (k4 s2) + LeakyReLU(0.2) + BN;
     4 x [UpSampling(2) + Conv2D(k4, s1) + ReLU + BN + concat skip] with 32, 16, 8, 4 filters;
     UpSampling(2) + Conv2D(1, k4, s1) + tanh.
  D: on the (White, image) pair: Conv2D(4, k4, s2) + LeakyReLU(0.2); Conv2D 8, 16, 32 (k4 s2) +
     LeakyReLU(0.2) + BN; Conv2D(1, k4, s1).
  Adam(2e-4, beta_1=0.5) for both; G loss = MSE (adversarial) + MAE, 1:1; D loss = MSE.
Deck training: "3000 epochs" of one batch each, read here as 3000 iterations (see docs/organizer.md, Baselines).
"""
from __future__ import annotations

from pathlib import Path

from inpaint import config

DECK_ITERATIONS, DECK_BATCH = 3000, 16

DECK_LITE = dict(
    gen_depth=5, gen_base_filters=4, gen_max_filters=32, gen_upsample="upsample_conv", gen_dropout=0.0,
    gen_norm="batch", gen_act_before_norm=True,
    gen_bn_momentum=0.99,  # Keras' default, which the deck's BatchNormalization layers keep
    disc_depth=4, disc_base_filters=4, disc_max_filters=32, disc_norm="batch", disc_act_before_norm=True,
    disc_final_stride1=False,
    adversarial="lsgan", lambda_adv=1.0, lambda_l1=1.0, hole_weight=1.0, lambda_l2=0.0,
    # The deck neither composites known pixels, augments, nor averages flips.
    composite=False, flip=False, intensity_jitter=0.0, tta_flip=False,
    learning_rate=2e-4, beta_1=0.5, d_steps=1,
)


def deck_config(iterations: int = DECK_ITERATIONS, batch: int = DECK_BATCH, seed: int = 0,
                image_size=(128, 128)) -> config.Config:
    return config.from_dict(
        dict(DECK_LITE, steps=iterations, epochs=0, batch_size=batch, seed=seed, image_size=tuple(image_size),
             sample_every=10**6)
    )


def train_and_predict(data, run: Path, iterations: int = DECK_ITERATIONS, batch: int = DECK_BATCH, seed: int = 0):
    """Train the deck's model on `data` into `run` and return its test predictions (n, M, N) in [0, 1]."""
    from inpaint.prediction import predict_run
    from inpaint.training import train

    cfg = deck_config(iterations, batch, seed, data.size).replace(  # the masks as `data` found them
        mask_threshold=data.mask_threshold, mask_grow=data.mask_grow)
    train(data, Path(run), cfg)  # progress as for any run: 3000 iterations take minutes
    return predict_run(Path(run), data)
