"""torch._dynamo deferred (grader/harness/dynamo_deferred.py): a plain training loop never imports it, and
everything that does use dynamo (torch.compile, torch.export, its submodules) gets the real one and the same
numbers as without the stand-in. Each case runs in a fresh interpreter: the stand-in changes sys.modules."""

import json
import subprocess
import sys

import pytest

PROGRAM = r"""
import json, sys
import torch
from grader.harness import dynamo_deferred
installed = dynamo_deferred.install(torch) if sys.argv[1] == "deferred" else False
torchvision = dynamo_deferred.import_torchvision()
from torch import nn
torch.manual_seed(0)
m = nn.Sequential(nn.Flatten(), nn.Linear(784, 32), nn.ReLU(), nn.Linear(32, 10))
opt = torch.optim.Adam(m.parameters(), lr=1e-3)
x, y = torch.rand(16, 1, 28, 28), torch.randint(0, 10, (16,))
losses = []
for _ in range(3):
    opt.zero_grad(); loss = nn.CrossEntropyLoss()(m(x), y); loss.backward(); opt.step()
    losses.append(loss.item())
opt.load_state_dict(opt.state_dict())
out = {"installed": installed, "losses": losses,
       "dynamo_while_training": type(sys.modules.get("torch._dynamo")).__name__}
use = sys.argv[2]
if use == "compile_step":
    @torch.compile(backend="eager")
    def step():
        opt.zero_grad(); l = nn.CrossEntropyLoss()(m(x), y); l.backward(); opt.step(); return l
    out["after"] = [step().item(), step().item()]
elif use == "compile_model":
    out["after"] = torch.compile(m, backend="eager")(x).sum().item()
elif use == "export":
    out["after"] = torch.export.export(m.eval(), (x,)).module()(x).sum().item()
elif use == "submodule":
    import torch._dynamo.config, torch._dynamo.testing
    from torch._dynamo import optimize
    out["after"] = [torch._dynamo.config.suppress_errors, torch._dynamo.testing.CompileCounter.__name__,
                    optimize.__name__]
elif use == "roi_align":  # torchvision's one caller of dynamo, through the stand-in's helper
    helper = sys.modules["torchvision.ops.roi_align"].is_compile_supported
    out["after"] = [helper("cpu"), helper("cuda"), helper("meta")]
out["dynamo_after"] = type(sys.modules.get("torch._dynamo")).__name__
out["same_module"] = torch._dynamo is sys.modules["torch._dynamo"]
print(json.dumps(out))
"""


def run(mode: str, use: str) -> dict:
    done = subprocess.run([sys.executable, "-c", PROGRAM, mode, use], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("use", ["compile_step", "compile_model", "export", "submodule", "roi_align"])
def test_training_skips_dynamo_and_what_uses_it_gets_the_real_one_with_the_same_numbers(use):
    deferred, plain = run("deferred", use), run("plain", use)
    assert deferred["installed"] and deferred["dynamo_while_training"] == "StandIn"
    assert plain["dynamo_while_training"] == "module"  # the optimizer imports it without the stand-in
    assert deferred["losses"] == plain["losses"] and deferred["after"] == plain["after"]
    assert deferred["dynamo_after"] == "module" and deferred["same_module"]
