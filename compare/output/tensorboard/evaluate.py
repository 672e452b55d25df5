"""Each side's own code on the data of the logs: test cost, train and test labels, the
decision-boundary grid. Nothing here trains; the logger
(`compare.output.tensorboard.logger`) writes what it gets."""

from __future__ import annotations

import numpy as np
import torch

from compare import adapter
from compare.output.tensorboard import images as tb_images
from compare.output.tensorboard import tags
from compare.proof.protocol import ScratchSide
from scratch.datasets import Dataset
from scratch.errors import InvalidArgument
from scratch.model import accuracy_of, labels_from_output
from scratch.validate import check_Y
from torch_ref.models import Net


class Evaluator:
    """Both sides, as they are now, on `data` (scratch layout; converted once, by the adapter).

    Attributes:
        grid: the image grid [2, size^2] of a 2-D dataset, else None.
        example: one torch sample [1, n], for tracing the graph.
    """

    def __init__(self, side: ScratchSide, reference: Net, data: Dataset) -> None:
        self.side, self.reference, self.spec, self.data = side, reference, reference.spec, data
        dtype = np.asarray(side.params["W1"]).dtype
        device, tdtype = reference.device, reference.dtype
        self.m_train = data.X_train.shape[1]
        self.X_test = np.ascontiguousarray(data.X_test, dtype=dtype)                    # [n, m_test]
        self.X_all = np.concatenate([data.X_train, data.X_test], axis=1).astype(dtype)  # [n, m_all]
        self.Y_train = check_Y(data.Y_train, self.spec, self.m_train, dtype, "Y_train")  # [K, m_train]
        self.Y_test = check_Y(data.Y_test, self.spec, self.X_test.shape[1], dtype, "Y_test")
        self.Xt_test = adapter.batch_to_torch(self.X_test, device, tdtype)              # [m_test, n]
        self.yt_test = adapter.targets_to_torch(self.Y_test, self.spec.output, device, tdtype)
        self.Xt_all = adapter.batch_to_torch(self.X_all, device, tdtype)                # [m_all, n]
        self.example = self.Xt_all[:1]                                                   # [1, n]
        self.grid = tb_images.grid(data.X_train).astype(dtype) if data.n_x == 2 else None

    def metrics(self, side: str) -> tuple[dict[str, float], np.ndarray]:
        """({'accuracy/train', 'loss/test', 'accuracy/test'}, test labels [1, m_test]) of one
        side, by that side's code (raises what a scratch model raises)."""
        J, labels = self.test_cost_and_labels(side)
        m, output = self.m_train, self.spec.output
        return {tags.ACCURACY_TRAIN: accuracy_of(labels[:, :m], self.Y_train, output),
                tags.LOSS_TEST: J,
                tags.ACCURACY_TEST: accuracy_of(labels[:, m:], self.Y_test, output)}, labels[:, m:]

    def test_cost_and_labels(self, side: str) -> tuple[float, np.ndarray]:
        """(J on the test split, predicted labels [1, m_train + m_test] of both splits), in
        two forward passes of one side."""
        if side == "scratch":
            AL, caches = self.side.forward(self.X_test)                                # [K, m_test]
            J = self.side.cost(AL, self.Y_test, caches)
            return J, labels_from_output(self.side.forward(self.X_all)[0], self.spec.output)
        with torch.no_grad():
            J = self.reference.loss(self.reference(self.Xt_test), self.yt_test).item()
            return J, adapter.labels_to_scratch(self.reference.predict(self.Xt_all))    # [1, m_all]

    def picture(self, side: str) -> np.ndarray:
        """The decision boundary of one side: RGB uint8 [size, size, 3] (2-D datasets)."""
        if self.grid is None:
            raise InvalidArgument(f"decision boundary: the data has {self.data.n_x} features, "
                                  "a picture needs 2")
        if side == "scratch":
            AL = self.side.forward(self.grid)[0]                                        # [K, s^2]
        else:
            G = adapter.batch_to_torch(self.grid, self.reference.device, self.reference.dtype)
            AL = adapter.batch_to_scratch(self.reference.predict_proba(G))              # [K, s^2]
        return tb_images.render(AL, self.data.X_train, self.data.Y_train)
