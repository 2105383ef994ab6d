"""A padel rally simulator with per-frame ground truth (pure: numpy and cv2 drawing).

:mod:`physics` flies the ball, :mod:`rally` plays points with four players,
:mod:`style` draws the random look of a court and camera, :mod:`render` draws
frames, :mod:`clip` ties them into a seeded, deterministic stream of
``(image, truth)`` pairs.
"""
