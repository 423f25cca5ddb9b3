"""The ops of each root module's first call (a fallback for runs killed before the network was sliced) and
the inputs each module received, to learn the preprocessing when no training step could be followed."""

from __future__ import annotations

import torch
from torch import nn
from torch.overrides import TorchFunctionMode

AFFINE_OPS = {"linear", "bilinear"}
MATMUL_OPS = {"matmul", "mm", "addmm", "__matmul__", "__rmatmul__", "einsum", "bmm", "baddbmm"}
CONV_OPS = {"conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d"}
NONLINEAR_OPS = {
    "relu", "relu_", "relu6", "leaky_relu", "leaky_relu_", "elu", "elu_", "selu", "selu_", "celu", "celu_",
    "gelu", "silu", "mish", "sigmoid", "sigmoid_", "tanh", "tanh_", "softplus", "softsign", "hardtanh",
    "hardtanh_", "hardswish", "hardsigmoid", "logsigmoid", "tanhshrink", "prelu", "rrelu", "rrelu_", "glu",
    "threshold", "threshold_", "hardshrink", "softshrink", "clamp", "clamp_", "clamp_min", "clamp_min_",
    "softmax", "log_softmax", "softmin",
}
RESHAPE_OPS = {"view", "reshape", "flatten", "squeeze", "unsqueeze", "unflatten", "permute", "transpose"}
DROPOUT_OPS = {"dropout", "dropout_", "alpha_dropout", "feature_alpha_dropout", "dropout1d", "dropout2d"}
NORM_OPS = {"batch_norm", "layer_norm", "group_norm", "instance_norm", "local_response_norm", "normalize"}
POOL_OPS = {"max_pool1d", "max_pool2d", "max_pool3d", "avg_pool1d", "avg_pool2d", "avg_pool3d",
            "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_max_pool2d"}
MAX_OPS = 200
STATS_CALLS = 20  # model inputs sampled to infer the preprocessing


def _category(name: str) -> str | None:
    for cat, names in (("affine", AFFINE_OPS), ("conv", CONV_OPS), ("nonlinear", NONLINEAR_OPS),
                       ("reshape", RESHAPE_OPS), ("dropout", DROPOUT_OPS), ("norm", NORM_OPS),
                       ("pool", POOL_OPS), ("matmul", MATMUL_OPS)):
        if name in names:
            return cat
    return None


def _shape(value) -> list[int] | None:
    return list(value.shape) if isinstance(value, torch.Tensor) else None


class OpRecorder(TorchFunctionMode):
    """Top-level torch ops of one forward call (nested ops run with the mode popped, so only what the
    model's code calls directly is seen: F.linear from nn.Linear, F.relu, x.view, x @ W ...)."""

    def __init__(self):
        super().__init__()
        self.ops: list[dict] = []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        if len(self.ops) < MAX_OPS:
            try:
                self._note(func, args, out)
            except Exception:  # recording must never break the submission
                pass
        return out

    def _note(self, func, args, out) -> None:
        name = getattr(func, "__name__", "")
        cat = _category(name)
        if cat is None:
            return
        tensors = [a for a in args if isinstance(a, torch.Tensor)]
        if cat == "matmul":
            params = [a for a in tensors if isinstance(a, nn.Parameter)]
            data = [a for a in tensors if not isinstance(a, nn.Parameter)]
            if not params or not data:
                return
            cat, tensors = "affine", data
        op = {"op": name, "cat": cat, "in": _shape(tensors[0]) if tensors else None, "out": _shape(out)}
        if cat == "affine" and op["in"] and op["out"]:
            op["features"] = [op["in"][-1], op["out"][-1]]
        self.ops.append(op)


class _ModuleInfo:
    __slots__ = ("mid", "has_params", "calls", "path_recorded", "shape", "samples")

    def __init__(self, mid: int, has_params: bool):
        self.mid, self.has_params, self.calls, self.path_recorded = mid, has_params, 0, False
        self.shape = None
        self.samples: list = []  # a few rows of the inputs of its first calls, as given (dtype kept)

    def inputs(self):
        """The sampled input rows, for learning the preprocessing (rows that are not MNIST images are ignored)."""
        same = [s for s in self.samples if list(s.shape[1:]) == self.shape[1:]] if self.shape else []
        return torch.cat(same) if same else None


class ForwardWatch:
    def _module_info(self, module: nn.Module) -> _ModuleInfo:
        info = self.modules.get(module)
        if info is None:
            has_params = next(module.parameters(), None) is not None
            info = self.modules[module] = _ModuleInfo(len(self.modules) + 1, has_params)
        return info

    def _pre_forward(self, module, args):
        depth = getattr(self.tls, "depth", 0) + 1
        self.tls.depth = depth
        if depth != 1:
            return None
        try:
            info = self._module_info(module)
            if not info.has_params:
                return None
            info.calls += 1
            x = args[0] if args and isinstance(args[0], torch.Tensor) else None
            if x is not None and info.calls <= STATS_CALLS and x.dim() and x.numel():
                info.shape = list(x.shape)
                info.samples.append(x.detach()[:4].cpu().clone())
            if not info.path_recorded:
                info.path_recorded = True
                recorder = OpRecorder()
                recorder.__enter__()
                self.tls.recording = (module, recorder, _shape(x))
        except Exception:
            pass
        return None

    def _post_forward(self, module, args, output):
        depth = getattr(self.tls, "depth", 1)
        self.tls.depth = depth - 1
        recording = getattr(self.tls, "recording", None)
        if depth == 1 and recording is not None and recording[0] is module:
            self.tls.recording = None
            _, recorder, in_shape = recording
            recorder.__exit__(None, None, None)
            info = self.modules.get(module)
            self.rec.emit("forward_path", module=info.mid if info else None, cls=type(module).__name__,
                          input=in_shape, ops=recorder.ops, completed=output is not None)
        return None

    def trained_model(self):
        """The root module whose parameters the optimizer stepped (most overlap wins)."""
        stepped = {id(p) for opt, info in list(self.optimizers.items()) if info["steps"]
                   for g in opt.param_groups for p in g["params"]}
        if not stepped:
            stepped = {id(p) for opt in list(self.optimizers) for g in opt.param_groups for p in g["params"]}
        best, best_key = None, None
        for module, info in list(self.modules.items()):
            if not info.has_params or not info.calls:
                continue
            ids = {id(p) for p in module.parameters()}
            key = (len(ids & stepped), info.calls, -len(ids))
            if best_key is None or key > best_key:
                best, best_key = (module, info, len(ids & stepped) / max(1, len(stepped))), key
        return best
