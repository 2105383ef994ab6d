"""Padel court analytics (a service package): pure rules (:mod:`analytics.players`, :mod:`analytics.bounces`,
:mod:`analytics.rallies`, :mod:`analytics.ball3d`, :mod:`analytics.camera_analytics`) and the
``courtside analytics`` service around them (:mod:`analytics.service`)."""
