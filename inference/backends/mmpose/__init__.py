"""MMPose (RTMPose top-down, RTMO one-stage) in ``.venvs/mmpose``, and RTMPose served from ONNX without mmcv.

The light modules (:mod:`.box_join`, :mod:`.detector_boxes`, :mod:`.topdown`, :mod:`.options`)
import no torch or mmcv and load in any environment.
"""
