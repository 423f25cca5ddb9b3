"""Instrumentation installed before the submission runs.

Everything here records what the program *does*, whatever it is spelled like:
  dataset / pass_start / pass_end   MNIST objects created, DataLoader passes and what they yielded
  loss / backward                   every loss computed (kind, value, batch size) and what each backward ran on,
                                    with whether the gradients were already cleared at that moment
  optimizer / step / zero_grad      optimizers created (class checked by identity), steps and whether they
                                    changed parameters
  forward_path                      the ops on the forward path of each root module, recorded on its first call
  line                              every line written to stdout/stderr
Epochs are not decided here: the host derives them from the order of these events (see grader/trace.py).
"""

from __future__ import annotations

import functools
import threading

import torch
import torch.nn.functional as F
from torch import nn
from torch.optim import optimizer as optim_hooks
from torch.overrides import TorchFunctionMode
from torch.utils import data as tud
from torchvision import datasets as tv_datasets
from torchvision.datasets import mnist as tv_mnist

from grader.harness import adam, mnist
from grader.harness.model import ModelWatch
from grader.harness.output import FdCapture
from grader.harness.recorder import LINE_CHARS

LOSS_KINDS = {
    "cross_entropy": "cross_entropy",
    "nll_loss": "nll",
    "mse_loss": "mse",
    "l1_loss": "l1",
    "smooth_l1_loss": "smooth_l1",
    "huber_loss": "huber",
    "binary_cross_entropy": "bce",
    "binary_cross_entropy_with_logits": "bce_with_logits",
    "kl_div": "kl_div",
    "poisson_nll_loss": "poisson_nll",
    "gaussian_nll_loss": "gaussian_nll",
    "multi_margin_loss": "multi_margin",
    "multilabel_margin_loss": "multilabel_margin",
    "multilabel_soft_margin_loss": "multilabel_soft_margin",
    "soft_margin_loss": "soft_margin",
    "hinge_embedding_loss": "hinge_embedding",
}

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


def batch_size_of(batch) -> int | None:
    if isinstance(batch, torch.Tensor):
        return int(batch.shape[0]) if batch.dim() else 1
    if isinstance(batch, (list, tuple)) and batch:
        return batch_size_of(batch[0])
    if isinstance(batch, dict) and batch:
        return batch_size_of(next(iter(batch.values())))
    return None


def _leaves_behind(root, limit: int = 5000) -> list:
    """The leaf tensors (parameters) whose gradients a backward from `root` accumulates into."""
    found, seen, stack = [], set(), [getattr(root, "grad_fn", None)]
    while stack and len(seen) < limit:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        var = getattr(node, "variable", None)
        if isinstance(var, torch.Tensor):
            found.append(var)
        stack.extend(fn for fn, _ in getattr(node, "next_functions", ()))
    return found


def _cross_entropy_share(root, hits) -> float | None:
    """How much of the back-propagated value the cross-entropy terms carry: each recorded loss L_i contributes
    (d root / d L_i) * L_i; a hand-written rest is root minus those. `mse + 0 * ce` gives 0, `ce + 1e-5 * l2`
    about 1, `loss / k` (gradient accumulation) exactly 1."""
    if root.numel() != 1 or not root.requires_grad:
        return None
    tensors = [h[5] for h in hits]
    grads = torch.autograd.grad(root, tensors, retain_graph=True, allow_unused=True)
    contrib = [0.0 if g is None else float((g.detach() * t.detach()).sum()) for g, t in zip(grads, tensors)]
    rest = float(root.detach()) - sum(contrib)
    total = sum(abs(c) for c in contrib) + abs(rest)
    ce = sum(abs(c) for c, h in zip(contrib, hits) if h[2] == "cross_entropy")
    return round(ce / total, 6) if total > 0 else None


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


class _PassIterator:
    """Wraps a DataLoader iterator: one pass = one iterator; counts what it yields."""

    def __init__(self, it, inst: "Instrumentation", loader_id: int, pass_no: int):
        self._it, self._inst, self._key = it, inst, (loader_id, pass_no)
        self._batches = self._examples = 0

    def __iter__(self):
        return self

    def __next__(self):
        try:
            batch = next(self._it)
        except StopIteration:
            self._inst.rec.emit("pass_end", loader=self._key[0], pass_no=self._key[1],
                                batches=self._batches, examples=self._examples)
            raise
        self._batches += 1
        self._examples += batch_size_of(batch) or 0
        self._inst.current_pass = self._key
        return batch

    def __len__(self):
        return len(self._it)

    def __getattr__(self, name):
        return getattr(self._it, name)


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


class Instrumentation:
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

    def install_output(self) -> None:
        self.capture = FdCapture(self._on_line)
        self.capture.start()
        self.rec.before = self.capture.drain

    # ------------------------------------------------------------------ data
    def _on_dataset(self, ds) -> None:
        self.datasets += 1
        images, _ = self.served.train if ds.train else self.served.eval
        self.rec.emit("dataset", ds=self.datasets, train=bool(ds.train), size=len(images))

    @staticmethod
    def _find_mnist(ds, depth: int = 0):
        if isinstance(ds, mnist.RealMNIST):
            return ds
        if depth > 6:
            return None
        inner = getattr(ds, "dataset", None)
        if inner is None and getattr(ds, "datasets", None):
            inner = ds.datasets[0]
        return Instrumentation._find_mnist(inner, depth + 1) if inner is not None else None

    def _wrap_dataloader(self) -> None:
        original = tud.DataLoader.__iter__
        inst = self

        @functools.wraps(original)
        def __iter__(loader):
            it = original(loader)
            passes = inst.loaders.get(loader)
            if passes is None:
                passes = inst.loaders[loader] = [len(inst.loaders) + 1, 0]
            passes[1] += 1
            base = inst._find_mnist(getattr(loader, "dataset", None))
            info = {"loader": passes[0], "pass_no": passes[1], "train": None if base is None else bool(base.train)}
            for key, fn in (("dataset_size", lambda: len(loader.dataset)), ("batches", lambda: len(loader)),
                            ("bs", lambda: loader.batch_size)):
                try:
                    info[key] = fn()
                except Exception:
                    info[key] = None
            inst.rec.emit("pass_start", **info)
            return _PassIterator(it, inst, passes[0], passes[1])

        tud.DataLoader.__iter__ = __iter__

    def _wrap_random_split(self) -> None:
        """Code written for MNIST's real sizes (random_split(train, [55000, 5000])) still runs on the subset."""
        original = tud.random_split
        rec = self.rec

        @functools.wraps(original)
        def random_split(dataset, lengths, *args, **kwargs):
            try:
                n, total = len(dataset), sum(lengths)
                if total != n and total in mnist.REAL_SIZES.values() and all(isinstance(x, int) for x in lengths):
                    scaled = [int(x * n / total) for x in lengths]
                    scaled[-1] = n - sum(scaled[:-1])
                    rec.emit("note", text=f"random_split lengths {list(lengths)} scaled to {scaled} for the "
                                          f"{n}-image grading subset")
                    lengths = scaled
            except TypeError:
                pass
            return original(dataset, lengths, *args, **kwargs)

        tud.random_split = tud.dataset.random_split = random_split

    # ------------------------------------------------------------------ losses and backward
    def _wrap_loss(self, original, kind: str):
        inst = self

        @functools.wraps(original)
        def loss(*args, **kwargs):
            out = original(*args, **kwargs)
            if not getattr(inst.tls, "in_loss", False):
                inst.tls.in_loss = True
                try:
                    inst._on_loss(kind, out, args, kwargs)
                except Exception:
                    pass
                finally:
                    inst.tls.in_loss = False
            return out

        return loss

    def _on_loss(self, kind: str, out, args, kwargs) -> None:
        if not isinstance(out, torch.Tensor):
            return
        self.loss_seq += 1
        first = args[0] if args else kwargs.get("input")
        fields = {"loss": self.loss_seq, "kind": kind, "value": float(out.detach().float().mean()),
                  "bs": batch_size_of(first), "grad": bool(out.requires_grad),
                  "reduction": kwargs.get("reduction", "mean") if isinstance(kwargs.get("reduction", "mean"), str)
                  else "mean"}
        if kind == "nll" and isinstance(first, torch.Tensor) and first.dim() == 2 and first.numel():
            # log-probabilities by what they are, however they were computed: each row's exp sums to 1
            fields["log_probs"] = bool((first.detach().float().logsumexp(dim=1).abs() < 1e-3).all())
        if out.grad_fn is not None:
            kind_ce = kind == "cross_entropy" or (kind == "nll" and fields.get("log_probs"))
            self.losses[id(out.grad_fn)] = (out.grad_fn, self.loss_seq, "cross_entropy" if kind_ce else kind,
                                            fields["bs"], fields["value"], out)
            if len(self.losses) > 256:  # keep the newest; the objects are held so ids are not reused meanwhile
                self.losses.pop(next(iter(self.losses)))
        self.rec.emit("loss", **fields)

    def _losses_behind(self, tensor) -> list[tuple]:
        """Recorded losses that the tensor's autograd graph reaches (a loss, or a sum like loss + l2)."""
        start = getattr(tensor, "grad_fn", None)
        if start is None:
            return []
        found, seen, frontier = [], set(), [start]
        while frontier and len(seen) < 64:
            node = frontier.pop(0)
            if node is None or id(node) in seen:
                continue
            seen.add(id(node))
            hit = self.losses.get(id(node))
            if hit is not None and hit[0] is node:
                found.append(hit)
                continue
            frontier.extend(fn for fn, _ in getattr(node, "next_functions", ()))
        return found

    def _optimizer_params(self) -> set[int]:
        return {id(p) for opt in list(self.optimizers) for g in opt.param_groups for p in g["params"]}

    def _grads_cleared(self, root) -> bool | None:
        """Were the gradients of the parameters this backward reaches (and an optimizer holds) all clear?
        Only those: a throw-away model's stale gradients say nothing about the loop being graded."""
        held = self._optimizer_params()
        reached = [p for p in _leaves_behind(root) if id(p) in held]
        if not reached:
            return None
        return not any(p.grad is not None and bool(p.grad.detach().ne(0).any()) for p in reached)

    def _wrap_backward(self, original, tensor_method: bool):
        inst = self

        @functools.wraps(original)
        def backward(*args, **kwargs):
            if getattr(inst.tls, "in_backward", False):
                return original(*args, **kwargs)
            inst.tls.in_backward = True
            try:
                targets = args[0] if args else kwargs.get("tensors")
                if tensor_method or isinstance(targets, torch.Tensor):
                    targets = [targets]
                inst.backward_no += 1
                for t in targets or ():
                    inst.watch.before_backward(t, inst.backward_no, inst._optimizer_params())
                    inst._on_backward(t)
                result = original(*args, **kwargs)
                inst.watch.after_backward(inst.backward_no)
                return result
            finally:
                inst.tls.in_backward = False

        return backward

    def _on_backward(self, tensor) -> None:
        try:
            hits = self._losses_behind(tensor)
            if len(hits) == 1 and hits[0][0] is tensor.grad_fn:  # backward on the loss itself: value known
                value = hits[0][4]
            else:
                value = float(tensor.detach().float().mean()) if tensor.numel() else None
            extra = {}
            if hits and (self.backward_no <= 3 or self.backward_no % 25 == 0):
                extra["ce_share"] = _cross_entropy_share(tensor, hits)
            self.rec.emit("backward", **extra, losses=[h[1] for h in hits], kinds=sorted({h[2] for h in hits}),
                          value=value, bs=hits[0][3] if hits else None, cleared=self._grads_cleared(tensor),
                          in_pass=list(self.current_pass) if self.current_pass else None)
        except Exception as exc:
            self.rec.emit("note", text=f"backward not recorded: {exc}")

    # ------------------------------------------------------------------ optimizers
    def _wrap_optimizers(self) -> None:
        # held in this closure, not in a module global that one line of submission code could rebind
        inst, base, real_adam = self, torch.optim.Optimizer, torch.optim.Adam
        original_init, original_zero = base.__init__, base.zero_grad

        @functools.wraps(original_init)
        def __init__(opt, *args, **kwargs):
            original_init(opt, *args, **kwargs)
            if opt not in inst.optimizers:
                inst.optimizers[opt] = {"id": len(inst.optimizers) + 1, "steps": 0, "versions": None}
                cls = type(opt)
                lr = opt.defaults.get("lr")
                inst.rec.emit("optimizer", opt=inst.optimizers[opt]["id"], cls=cls.__name__, module=cls.__module__,
                              is_adam=cls is real_adam, lr=float(lr) if lr is not None else None,
                              params=sum(len(g["params"]) for g in opt.param_groups))

        @functools.wraps(original_zero)
        def zero_grad(opt, *args, **kwargs):
            info = inst.optimizers.get(opt)
            inst.rec.emit("zero_grad", opt=info["id"] if info else None)
            return original_zero(opt, *args, **kwargs)

        base.__init__, base.zero_grad = __init__, zero_grad
        # every optimizer class's step goes through the hooks from the start, not only once an instance of
        # that class exists: torch.optim.SGD.step(adam) must be seen as a step of the Adam object
        for cls in vars(torch.optim).values():
            if isinstance(cls, type) and issubclass(cls, base) and cls is not base and \
                    "step" in vars(cls) and not getattr(cls.step, "hooked", False):
                cls.step = base.profile_hook_step(cls.step)
                cls.step.hooked = True
        optim_hooks.register_optimizer_step_pre_hook(self._pre_step)
        optim_hooks.register_optimizer_step_post_hook(self._post_step)

    def _pre_step(self, opt, args, kwargs) -> None:
        info = self.optimizers.get(opt)
        if info is None:
            return
        try:
            if info.get("after") is not None:  # taken after the previous (sampled) step
                info["outside"] = adam.changed_since(info["after"], opt)
                info["after"] = None
            info["snap"] = adam.StepSnapshot(opt, self.backward_no > info.get("backward_at", 0)) \
                if info["steps"] + 1 in adam.SAMPLED else None
        except Exception:
            info["snap"] = None
        info["versions"] = [(p, p._version, p.grad is not None) for g in opt.param_groups for p in g["params"]]

    def _post_step(self, opt, args, kwargs) -> None:
        info = self.optimizers.get(opt)
        if info is None or info["versions"] is None:
            return
        info["steps"] += 1
        info["backward_at"] = self.backward_no
        versions, info["versions"] = info["versions"], None
        first = versions[0][0] if versions else None
        lr = opt.param_groups[0].get("lr") if opt.param_groups else None
        fields = {}
        snap, info["snap"] = info.get("snap"), None
        if snap is not None:
            try:
                rule, moved = snap.follows_adam()
                fields = {"rule": rule, "moved": moved, "grads_zero": snap.grads_zero()}
                info["after"] = adam.take_values(opt)
            except Exception:
                pass
        if "outside" in info:
            fields["outside"] = info.pop("outside")
        self.rec.emit("step", opt=info["id"], n=info["steps"], changed=any(p._version != v for p, v, _ in versions),
                      had_grad=any(g for _, _, g in versions), lr=float(lr) if lr is not None else None,
                      device=str(first.device) if first is not None else None, **fields)

    def optimizer_summaries(self) -> None:
        """After the run: each optimizer's own count of Adam steps (its state), beside the steps observed."""
        for opt, info in list(self.optimizers.items()):
            try:
                self.rec.emit("optimizer_end", force=True, opt=info["id"], steps=info["steps"],
                              state_steps=adam.adam_state_steps(opt))
            except Exception:
                pass

    # ------------------------------------------------------------------ forward path
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

    # ------------------------------------------------------------------ output
    def _on_line(self, stream: str, text: str, end: str) -> None:
        self.rec.emit("line", drain=False, s=stream, text=text[:LINE_CHARS], end=end)

    # ------------------------------------------------------------------ after the run
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
