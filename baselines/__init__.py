"""The course's baselines (identity, simplified pix2pix) and classical inpainting references."""
