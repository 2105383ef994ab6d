"""The padel court in metres and the cameras that look at it (pure: numpy only).

Shared by the rally simulator (:mod:`courtside.sim`), the ball tracker
(:mod:`inference.backends.ball`) and analytics.
"""
