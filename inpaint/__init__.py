"""pix2pix mouth-inpainting competition kit: data contract, GAN training, prediction.

Kept free of heavy imports: `import inpaint` must not start TensorFlow.
"""
__version__ = "0.1.0"
