"""Faces and their five landmarks (eyes, nose, mouth corners) in a photo, found offline.

The detector is MTCNN from the `mtcnn` pip package (MIT licence): its three small networks'
weights ship inside the wheel (mtcnn/assets/weights/*.lz4) and run on the kit's TensorFlow, so
nothing is downloaded. When the package is not installed, scikit-image's bundled LBP
frontal-face cascade is the fallback: it gives only a face box, so its landmarks are placed where
a frontal face box puts them, and the summary line says which detector ran.
"""
from __future__ import annotations

import functools
import os
from dataclasses import dataclass

import cv2
import numpy as np

# Photos are searched at this size range: a tiny face is enlarged past MTCNN's 20-pixel minimum,
# a big photo is shrunk (time grows with the pixel count; a face in a portrait stays large).
DETECT_MIN_SIDE, DETECT_MAX_SIDE = 240, 640
# A face that fills the whole frame (tight crops) is often missed: search again inside this much
# extra border (a fraction of each side), filled by repeating the edge.
RETRY_BORDER = 0.3
# Cascade fallback: landmarks in face-box units (x, y), read off the kit's synthetic faces and
# frontal photos; only used when mtcnn is missing.
CASCADE_LANDMARKS = {"left_eye": (0.30, 0.38), "right_eye": (0.70, 0.38),
                     "mouth_left": (0.33, 0.80), "mouth_right": (0.67, 0.80)}

Point = tuple[float, float]  # (x, y) in photo pixels


@dataclass(frozen=True)
class Face:
    box: tuple[float, float, float, float]  # x, y, width, height in photo pixels
    confidence: float  # the detector's score in [0, 1]; the cascade has none and reports 1
    left_eye: Point  # "left" and "right" as seen in the image, not the person's own
    right_eye: Point
    mouth_left: Point
    mouth_right: Point

    @property
    def area(self) -> float:
        return self.box[2] * self.box[3]

    def mapped(self, fn) -> "Face":
        """The same face with every coordinate passed through fn((x, y)) -> (x, y) and the box
        scaled alike (fn must be a shift and a uniform scale)."""
        (x0, y0), (x1, y1) = fn(self.box[:2]), fn((self.box[0] + self.box[2], self.box[1] + self.box[3]))
        return Face((x0, y0, x1 - x0, y1 - y0), self.confidence, fn(self.left_eye), fn(self.right_eye),
                    fn(self.mouth_left), fn(self.mouth_right))


class MtcnnDetector:
    name = "mtcnn"

    def __init__(self, mtcnn_module):
        from importlib.resources import files

        from mtcnn.stages import StageONet, StagePNet, StageRNet

        # The package looks for "pnet.lz4" etc. in the current folder before its own copy, and
        # unpickles what it finds: name the bundled files by their full path instead.
        bundled = files("mtcnn.assets.weights")
        stages = [stage(weights=str(bundled / name))
                  for stage, name in ((StagePNet, "pnet.lz4"), (StageRNet, "rnet.lz4"), (StageONet, "onet.lz4"))]
        self._net = mtcnn_module.MTCNN(stages=stages, device="CPU:0")

    def __call__(self, rgb: np.ndarray) -> list[Face]:
        faces = []
        for hit in self._net.detect_faces(rgb):
            k = {name: (float(p[0]), float(p[1])) for name, p in hit["keypoints"].items()}
            faces.append(Face(tuple(float(v) for v in hit["box"]), float(hit["confidence"]),
                              k["left_eye"], k["right_eye"], k["mouth_left"], k["mouth_right"]))
        return faces


class CascadeDetector:
    name = "lbp-cascade"

    def __init__(self):
        from skimage import data
        from skimage.feature import Cascade

        self._cascade = Cascade(data.lbp_frontal_face_cascade_filename())

    def __call__(self, rgb: np.ndarray) -> list[Face]:
        gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32) / 255.0
        side = min(gray.shape)
        hits = self._cascade.detect_multi_scale(img=gray, scale_factor=1.1, step_ratio=1,
                                                min_size=(max(24, side // 8),) * 2, max_size=(side, side))
        boxes: list[tuple[float, float, float]] = []
        for h in sorted(hits, key=lambda h: -h["width"]):
            r, c, w = h["r"], h["c"], h["width"]  # largest first: a box centred inside a kept one is the same face
            if not any(kr <= r + w / 2 <= kr + kw and kc <= c + w / 2 <= kc + kw for kr, kc, kw in boxes):
                boxes.append((r, c, w))

        def at(r, c, w, name):
            u, v = CASCADE_LANDMARKS[name]
            return (c + u * w, r + v * w)

        return [Face((float(c), float(r), float(w), float(w)), 1.0, *(at(r, c, w, n) for n in CASCADE_LANDMARKS))
                for r, c, w in boxes]


def _import_mtcnn():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's start-up chatter is not the user's business
    import mtcnn

    return mtcnn


@functools.lru_cache(maxsize=1)
def load_detector():
    """MTCNN when the package is installed, else the LBP cascade; `.name` says which."""
    try:
        return MtcnnDetector(_import_mtcnn())
    except ImportError:
        return CascadeDetector()


def find_faces(detector, rgb: np.ndarray) -> list[Face]:
    """Faces in an RGB uint8 photo, in photo coordinates, largest first."""
    scale = 1.0
    long_side = max(rgb.shape[:2])
    if long_side < DETECT_MIN_SIDE or long_side > DETECT_MAX_SIDE:
        scale = (DETECT_MIN_SIDE if long_side < DETECT_MIN_SIDE else DETECT_MAX_SIDE) / long_side
        interp = cv2.INTER_CUBIC if scale > 1 else cv2.INTER_AREA
        rgb = cv2.resize(rgb, None, fx=scale, fy=scale, interpolation=interp)
    pad = 0
    faces = detector(rgb)
    if not faces:
        pad = int(round(RETRY_BORDER * max(rgb.shape[:2])))
        faces = detector(cv2.copyMakeBorder(rgb, pad, pad, pad, pad, cv2.BORDER_REPLICATE))
    back = lambda p: ((p[0] - pad) / scale, (p[1] - pad) / scale)  # noqa: E731 - detection -> photo pixels
    return sorted((f.mapped(back) for f in faces), key=lambda f: -f.area)
