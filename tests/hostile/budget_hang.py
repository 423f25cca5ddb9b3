# Trains one epoch printing the loss every 100 batches (a cadence a shortened epoch never reaches, which
# alone would ask for the full-size confirmation run), then ignores SIGTERM and spins forever. A timeout is
# never caused by the shortened data: the grading must end within the CPU budget plus a small margin.
import signal  # __TOKEN__

import torch, torch.nn as nn
from torchvision import datasets, transforms

loader = torch.utils.data.DataLoader(datasets.MNIST("d", train=True, download=True, transform=transforms.Compose(
    [transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))])), batch_size=64, shuffle=True)
model = nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 10))
criterion, optimizer = nn.CrossEntropyLoss(), torch.optim.Adam(model.parameters(), lr=0.001)
for i, (images, labels) in enumerate(loader):
    optimizer.zero_grad()
    loss = criterion(model(images), labels)
    loss.backward()
    optimizer.step()
    if (i + 1) % 100 == 0:
        print(f"Epoch 1, batch {i + 1}, Loss: {loss.item():.4f}")
signal.signal(signal.SIGTERM, signal.SIG_IGN)
while True:
    pass
