"""The smallest complete backend: the brightest region of each frame as one object.

A real algorithm (no learned weights, numpy only), kept tiny on purpose: it is the
worked example of ``docs/backends.md``, which includes its files verbatim, and
``tests/inference/test_backend_recipe.py`` serves it end to end.
"""
