"""The self-hosted competition server (`inpaint serve`): rules, database, judging, JSON API, web pages.

Imports no TensorFlow: it reads, validates, scores and grades with `submission/`.
"""
