# Burns __BURN__ s of CPU in a child that calls setsid(), outside the harness's process group, while this
# process waits (in waitpid, using no CPU); then trains as the exercise asks. That CPU is the submission's: it must
# count against the budget (the kernel's cgroup accounting sees every process the submission starts).
import subprocess, sys

BURN = ("import time\nfor n in range(1, __BURN__ + 1):\n    t = time.process_time()\n"
        "    while time.process_time() - t < 1:\n        pass\n    print('burned', n, flush=True)")
subprocess.run([sys.executable, "-c", BURN + "  # __TOKEN__ burner"], start_new_session=True)
print("BURNED __BURN__ s of CPU in another session")

import torch, torch.nn as nn  # noqa: E402
from torchvision import datasets, transforms  # noqa: E402

loader = torch.utils.data.DataLoader(datasets.MNIST("d", train=True, download=True, transform=transforms.Compose(
    [transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))])), batch_size=64, shuffle=True)
model = nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 10))
criterion, optimizer = nn.CrossEntropyLoss(), torch.optim.Adam(model.parameters(), lr=0.001)
for epoch in range(10):
    for images, labels in loader:
        optimizer.zero_grad()
        loss = criterion(model(images), labels)
        loss.backward()
        optimizer.step()
    print(f"Epoch [{epoch + 1}/10], Loss: {loss.item():.4f}")
