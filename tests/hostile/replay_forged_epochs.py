# Trains one honest epoch with Adam, then makes the trace say ten. The trace recorder lives in the harness's
# interpreter, so gc finds it; its key and sequence numbers come with it, and every event it writes is as
# genuine as the harness's own. Epochs 2-10 are written as events (passes, losses, backward passes, Adam
# steps) with losses that keep falling, and their "results" are printed to match.
import gc
import math

import torch
import torch.nn as nn
from torchvision import datasets, transforms

recorder = next(o for o in gc.get_objects() if type(o).__name__ == "Recorder" and hasattr(o, "emit"))
inst = next((o for o in gc.get_objects() if type(o).__name__ == "Instrumentation"), None)

transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))])
train = datasets.MNIST(root="./data", train=True, transform=transform, download=True)
loader = torch.utils.data.DataLoader(train, batch_size=64, shuffle=True)
model = nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 10))
optimizer = torch.optim.Adam(model.parameters(), lr=0.002)
criterion = nn.CrossEntropyLoss()

for images, labels in loader:  # the only real epoch
    optimizer.zero_grad()
    loss = criterion(model(images), labels)
    loss.backward()
    optimizer.step()
print(f"Epoch [1/10], Loss: {loss.item():.4f}")

loader_no = max(n for n, _ in inst.loaders.values()) if inst is not None else 1
batches, step_no = len(loader), len(loader)
loss_no = inst.loss_seq if inst is not None else 10**4
for epoch in range(2, 11):
    recorder.emit("pass_start", loader=loader_no, pass_no=epoch, train=True, dataset_size=len(train),
                  batches=batches, bs=64)
    for b in range(batches):
        value = round(0.3 * math.exp(-0.25 * epoch) * (1 + 0.4 * math.sin(b * 1.7)), 6)
        loss_no += 1
        step_no += 1
        bs = 64 if b < batches - 1 else len(train) - 64 * (batches - 1)
        recorder.emit("loss", loss=loss_no, kind="cross_entropy", value=value, bs=bs, grad=True, reduction="mean")
        recorder.emit("zero_grad", opt=1)
        recorder.emit("backward", losses=[loss_no], kinds=["cross_entropy"], value=value, bs=bs, cleared=True,
                      in_pass=[loader_no, epoch])
        recorder.emit("step", opt=1, n=step_no, changed=True, had_grad=True, lr=0.002, device="cpu",
                      rule=True, moved=0.002)
    recorder.emit("pass_end", loader=loader_no, pass_no=epoch, batches=batches, examples=len(train))
    print(f"Epoch [{epoch}/10], Loss: {value:.4f}")
