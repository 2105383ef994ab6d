"""Offline demo backend: OpenCV's pretrained HOG people detector + ball candidates.

Real pretrained weights without any download: the Dalal-Triggs HOG + linear SVM
people detector compiled into OpenCV 4.x (``cv2.HOGDescriptor_getDefaultPeopleDetector``).
OpenCV 5 dropped ``HOGDescriptor`` from its main module, and the main environment
pins OpenCV 5, so this backend runs in its own environment, ``.venvs/opencv-hog``
(``requirements.txt`` here; build it with ``inference/backends/opencv_hog/setup_env.sh``),
exactly like other backends with their own dependencies::

    .venvs/opencv-hog/bin/python -m courtside infer <model>   # with backend: opencv

Labels say what the detector is: ``person (HOG)``; ball candidates are moving,
small, roughly round blobs from background subtraction: ``ball candidate``, not
"ball". HOG weights are "trained" (pretrained by OpenCV); the ball finder has no
learned weights at all.
"""
