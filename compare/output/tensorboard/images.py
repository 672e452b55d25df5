"""Decision-boundary images of a 2-D classifier, drawn with NumPy and Pillow (no matplotlib).

    grid(X)                   -> G [2, size*size] points covering the data, row-major, y up
    render(P, X, labels)      -> RGB uint8 [size, size, 3]

The background is each grid point's class probabilities mixed into class colours
(pale where the model is unsure), the boundary (where the predicted class changes)
is dark, and the samples are dots in their true class's colour. Each side
computes P [K, size*size] with its own code; this module only draws.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

SIZE = 128          # pixels per side (192 costs 4x the time of the PNG encoding)
MARGIN = 0.1        # share of the data's range added on each side
PALETTE = np.array([[44, 123, 182], [215, 48, 39], [26, 152, 80], [152, 78, 163],
                    [255, 127, 0], [166, 86, 40], [247, 129, 191], [77, 77, 77],
                    [190, 174, 212], [255, 217, 47]], dtype=np.float64)   # [10, 3]


def extent(X: np.ndarray) -> tuple[float, float, float, float]:
    """(x0, x1, y0, y1): the data's bounding box [2, m] widened by MARGIN."""
    lo, hi = X.min(axis=1), X.max(axis=1)                      # [2]
    pad = (hi - lo) * MARGIN + 1e-9                            # [2]
    return float(lo[0] - pad[0]), float(hi[0] + pad[0]), float(lo[1] - pad[1]), float(hi[1] + pad[1])


def grid(X: np.ndarray, size: int = SIZE) -> np.ndarray:
    """The centres of size x size pixels over `extent(X)`, row by row from the top: [2, size^2]."""
    x0, x1, y0, y1 = extent(X)
    xs = np.linspace(x0, x1, size)                             # [size]
    ys = np.linspace(y1, y0, size)                             # [size] top row first
    gx, gy = np.meshgrid(xs, ys)                               # [size, size] each
    return np.stack([gx.ravel(), gy.ravel()])                  # [2, size^2]


def class_probabilities(AL: np.ndarray) -> np.ndarray:
    """A[L] [1, m] (sigmoid: P(y = 1)) or [K, m] (softmax) -> [K, m] with K >= 2."""
    return np.concatenate([1.0 - AL, AL]) if AL.shape[0] == 1 else AL


def render(AL: np.ndarray, X: np.ndarray, labels: np.ndarray, size: int = SIZE) -> np.ndarray:
    """The picture of one model: RGB uint8 [size, size, 3].

    Args:
        AL: the model's output on `grid(X, size)`, [1, size^2] or [K, size^2].
        X: the samples drawn as dots, [2, m] (also fixes the extent).
        labels: their true classes, [1, m] of 0..K-1.
    """
    P = np.nan_to_num(class_probabilities(np.asarray(AL, dtype=np.float64)), nan=0.0)  # [K, s^2]
    K = P.shape[0]
    colours = PALETTE[np.arange(K) % len(PALETTE)]             # [K, 3]
    mixed = P.T @ colours                                      # [s^2, 3]
    confidence = P.max(axis=0, keepdims=True).T                # [s^2, 1] in [1/K, 1]
    strength = 0.15 + 0.45 * (confidence - 1.0 / K) * K / max(K - 1, 1)   # [s^2, 1]
    rgb = 255.0 * (1 - strength) + mixed * strength            # [s^2, 3] pale tints
    cls = P.argmax(axis=0).reshape(size, size)                 # [s, s]
    edge = np.zeros((size, size), dtype=bool)                  # [s, s]
    edge[:, 1:] |= cls[:, 1:] != cls[:, :-1]
    edge[1:, :] |= cls[1:, :] != cls[:-1, :]
    rgb = rgb.reshape(size, size, 3)                           # [s, s, 3]
    rgb[edge] = 40.0
    image = Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(image)
    x0, x1, y0, y1 = extent(X)
    px = (X[0] - x0) / (x1 - x0) * (size - 1)                  # [m] column
    py = (y1 - X[1]) / (y1 - y0) * (size - 1)                  # [m] row
    for x, y, k in zip(px, py, np.asarray(labels).ravel(), strict=True):
        fill = tuple(int(c) for c in PALETTE[int(k) % len(PALETTE)])
        draw.ellipse((x - 2, y - 2, x + 2, y + 2), fill=fill, outline=(20, 20, 20))
    return np.asarray(image)                                   # [s, s, 3]
