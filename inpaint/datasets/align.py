"""From a face's landmarks to a square crop and the mouth box inside it.

The crop is a similarity transform of the photo (rotation, one scale, shift) that puts the midpoint
of the eyes at a fixed place and the eyes a fixed distance apart; with alignment it also rotates
the face so the eye line is level. Every pair of a set then has its mouth in nearly the same place,
which is what the course's sets look like and what a fixed box (`--box fixed`) needs.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from inpaint.datasets.face_detect import Face

# Where the eyes land, as fractions of the crop side: the eye midpoint centred at 36% height, the
# eyes 30% of the side apart. A mouth lies about one eye distance below the eyes, so at about 70%:
# the crop keeps forehead, cheeks and chin.
EYE_ROW, EYE_SPAN = 0.36, 0.30
# The mouth box, in units of the distance between the mouth corners: the centre sits a little below
# the line between the corners (an open mouth opens downwards, a smile lifts the corners), the width
# covers the lips beyond the corners, the height (a ratio of the width) covers an open mouth.
MOUTH_DROP = 0.25
MOUTH_WIDTH, MOUTH_HEIGHT = 1.6, 0.6


@dataclass(frozen=True)
class Crop:
    matrix: np.ndarray  # 2x3 affine, photo (x, y) -> crop (x, y)
    scale: float  # crop pixels per photo pixel
    rotation: float  # degrees the photo is turned (counter-clockwise as displayed); 0 without alignment

    def apply(self, points) -> np.ndarray:
        """(n, 2) photo points (x, y) -> crop points (x, y)."""
        return cv2.transform(np.asarray(points, np.float64).reshape(-1, 1, 2), self.matrix).reshape(-1, 2)


def eye_angle(left: tuple[float, float], right: tuple[float, float]) -> float:
    """Angle of the eye line in degrees, as displayed (y down): 0 is level, positive when the
    image-right eye is lower."""
    return math.degrees(math.atan2(right[1] - left[1], right[0] - left[0]))


def face_crop(face: Face, size: int, align: bool = True) -> Crop:
    """The transform that puts `face`'s eyes at their fixed places in a size x size crop."""
    left, right = np.asarray(face.left_eye), np.asarray(face.right_eye)
    middle = (left + right) / 2
    span = max(float(np.linalg.norm(right - left)), 1.0)
    angle = eye_angle(face.left_eye, face.right_eye) if align else 0.0
    scale = EYE_SPAN * size / span
    # OpenCV turns counter-clockwise for a positive angle, about the eye midpoint, then scales.
    matrix = cv2.getRotationMatrix2D((float(middle[0]), float(middle[1])), angle, scale)
    matrix[:, 2] += np.array([size / 2, EYE_ROW * size]) - middle
    return Crop(matrix, scale, angle)


def warp(image: np.ndarray, crop: Crop, size: int) -> np.ndarray:
    """The size x size crop of `image`. A photo shrunk a lot is first reduced with area averaging
    (a warp samples, and would alias the skin's texture); edges are repeated past the border."""
    matrix = crop.matrix.copy()
    if crop.scale < 0.5:
        shrink = 2 * crop.scale  # leave a factor 2 to the warp's interpolation
        image = cv2.resize(image, None, fx=shrink, fy=shrink, interpolation=cv2.INTER_AREA)
        matrix[:, :2] /= shrink
    return cv2.warpAffine(image, matrix, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def mouth_box(face: Face, crop: Crop, size: int, width: float = MOUTH_WIDTH, height: float = MOUTH_HEIGHT,
              scale: float = 1.0) -> tuple[int, int, int, int]:
    """(top, left, bottom, right) of the mouth box in the crop, bottom/right exclusive, clipped."""
    (lx, ly), (rx, ry) = crop.apply([face.mouth_left, face.mouth_right])
    corners = math.hypot(rx - lx, ry - ly)
    cx, cy = (lx + rx) / 2, (ly + ry) / 2 + MOUTH_DROP * corners
    half_w = width * corners * scale / 2
    half_h = half_w * height
    top, left = int(round(cy - half_h)), int(round(cx - half_w))
    bottom, right = int(round(cy + half_h)), int(round(cx + half_w))
    return max(top, 0), max(left, 0), min(bottom, size), min(right, size)
