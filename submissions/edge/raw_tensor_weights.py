import math

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader
from torchvision import datasets, transforms

torch.manual_seed(0)


def init_weight(fan_in, fan_out):
    # He init, works better than plain randn for relu
    return (torch.randn(fan_in, fan_out) * math.sqrt(2.0 / fan_in)).requires_grad_()


w1 = init_weight(784, 128)
b1 = torch.zeros(128, requires_grad=True)
w2 = init_weight(128, 64)
b2 = torch.zeros(64, requires_grad=True)
w3 = init_weight(64, 10)
b3 = torch.zeros(10, requires_grad=True)


def model(x):
    x = x.view(x.shape[0], -1)
    h1 = F.relu(x @ w1 + b1)
    h2 = F.relu(h1 @ w2 + b2)
    return h2 @ w3 + b3


transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))])
train_set = datasets.MNIST("./data", train=True, download=True, transform=transform)
test_set = datasets.MNIST("./data", train=False, download=True, transform=transform)
train_loader = DataLoader(train_set, batch_size=64, shuffle=True)
test_loader = DataLoader(test_set, batch_size=1000)

optimizer = torch.optim.Adam([w1, b1, w2, b2, w3, b3], lr=1e-3)

for epoch in range(10):
    epoch_loss = 0.0
    for xb, yb in train_loader:
        optimizer.zero_grad()
        loss = F.cross_entropy(model(xb), yb)
        loss.backward()
        optimizer.step()
        epoch_loss += loss.item()
    print(f"Epoch {epoch + 1}: loss = {epoch_loss / len(train_loader):.4f}")

correct = 0
with torch.no_grad():
    for xb, yb in test_loader:
        correct += (model(xb).argmax(dim=1) == yb).sum().item()
print(f"Test accuracy: {100 * correct / len(test_set):.2f}%")
