"""Instrumentation installed before the submission runs: composes one watcher per kind of observation.

  watch/data.py        dataset / pass_start / pass_end: MNIST objects, DataLoader passes and what they yielded
  watch/losses.py      loss / backward: every loss computed, what each backward ran on, the cross-entropy share,
                       whether the gradients it reaches were clear
  watch/optimizers.py  optimizer / step / zero_grad / optimizer_end: steps, and Adam judged by its effect
  watch/forward.py     forward_path and sampled module inputs (fallbacks when no training step was sliced)
  model.py             the tapes of training steps, from which the network is sliced (tape.py, network.py)
  output.py            line: everything written to fds 1 and 2
Epochs are not decided here: the host derives them from the order of these events (see grader/trace.py).
"""

from __future__ import annotations

import threading

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils import data as tud
from torchvision import datasets as tv_datasets
from torchvision.datasets import mnist as tv_mnist

from grader.harness import mnist
from grader.harness.model import ModelWatch
from grader.harness.output import FdCapture
from grader.harness.recorder import LINE_CHARS
from grader.harness.watch.data import DataWatch
from grader.harness.watch.forward import ForwardWatch, _ModuleInfo
from grader.harness.watch.losses import LOSS_KINDS, LossWatch
from grader.harness.watch.optimizers import OptimizerWatch


class Instrumentation(DataWatch, LossWatch, OptimizerWatch, ForwardWatch):
    def __init__(self, rec, served: mnist.Served):
        self.rec, self.served = rec, served
        self.tls = threading.local()
        self.loss_seq = 0
        self.losses: dict[int, tuple] = {}  # id(grad_fn) -> (grad_fn, loss id, kind, batch size, value)
        # strong references: a model built inside main() must still be there to export after main() returns
        self.optimizers: dict[torch.optim.Optimizer, dict] = {}
        self.loaders: dict[tud.DataLoader, list] = {}
        self.modules: dict[nn.Module, _ModuleInfo] = {}
        self.datasets = 0
        self.current_pass = None
        self.backward_no = 0
        self.watch = ModelWatch()

    # ------------------------------------------------------------------ install
    def install(self) -> None:
        served_cls = mnist.make_dataset_class(self.served, self._on_dataset)
        tv_datasets.MNIST = tv_mnist.MNIST = served_cls
        for attr, kind in LOSS_KINDS.items():
            if hasattr(F, attr):
                setattr(F, attr, self._wrap_loss(getattr(F, attr), kind))
        torch.Tensor.backward = self._wrap_backward(torch.Tensor.backward, tensor_method=True)
        torch.autograd.backward = self._wrap_backward(torch.autograd.backward, tensor_method=False)
        self._wrap_optimizers()
        self._wrap_dataloader()
        self._wrap_random_split()
        nn.modules.module.register_module_forward_pre_hook(self._pre_forward)
        nn.modules.module.register_module_forward_hook(self._post_forward, always_call=True)

    def install_output(self, pipe_bytes: int | None = None) -> None:
        self.capture = FdCapture(self._on_line, pipe_bytes)
        self.capture.start()
        self.rec.before = self.capture.drain
        self.capture.on_idle = self.rec.flush_stale

    # ------------------------------------------------------------------ output
    def _on_line(self, stream: str, text: str, end: str, row: int) -> None:
        self.rec.emit("line", drain=False, s=stream, text=text[:LINE_CHARS], end=end, row=row)
