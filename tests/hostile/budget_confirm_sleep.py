# Asks for the full-size confirmation run on purpose: on the shortened run it crashes at once with an error
# that names the served size (what code written for 60,000 images says when it meets fewer); on the
# full-size run it sleeps __SLEEP__ s, using no CPU, before training: a batch slot held for nothing.
import time  # __TOKEN__

import torch, torch.nn as nn
from torchvision import datasets, transforms

train = datasets.MNIST("d", train=True, download=True, transform=transforms.Compose(
    [transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))]))
if len(train) < 60000:
    raise IndexError(f"index {len(train)} is out of bounds for dimension 0 with size {len(train)}")
print("full-size run: sleeping", flush=True)
time.sleep(__SLEEP__)
loader = torch.utils.data.DataLoader(train, batch_size=64, shuffle=True)
model = nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 10))
criterion, optimizer = nn.CrossEntropyLoss(), torch.optim.Adam(model.parameters(), lr=0.001)
for epoch in range(10):
    for images, labels in loader:
        optimizer.zero_grad()
        loss = criterion(model(images), labels)
        loss.backward()
        optimizer.step()
    print(f"Epoch [{epoch + 1}/10], Loss: {loss.item():.4f}")
