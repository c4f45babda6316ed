"""The speed reference for ``cxr-pneumonia``: a DenseNet-121 at 224 px reading a folder of films, batch 1.

    python benchmarks/densenet_reference.py FOLDER

The CheXNet / TorchXRayVision architecture as most chest X-ray tools ship it: each JPEG decoded at full
size, made RGB, resized to 224 x 224 and passed through the network one at a time. Weights are random
(``weights=None``, nothing is downloaded): only the time counts. Prints one line per film, as a CLI would.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from PIL import Image  # noqa: E402

SIDE = 224


def main(folder: str) -> None:
    network = keras.applications.DenseNet121(weights=None, input_shape=(SIDE, SIDE, 3), classes=1,
                                             classifier_activation="sigmoid")
    forward = tf.function(lambda images: network(images, training=False))
    for path in sorted(Path(folder).glob("*.jp*g")):
        with Image.open(path) as image:
            pixels = np.asarray(image.convert("RGB").resize((SIDE, SIDE), Image.BILINEAR), np.float32) / 255.0
        probability = float(forward(tf.constant(pixels[np.newaxis]))[0, 0])
        print(f"{path.name},{probability:.4f}")


if __name__ == "__main__":
    main(sys.argv[1])
