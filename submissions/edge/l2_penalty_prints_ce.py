import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader
from torchvision import datasets, transforms

LAMBDA_L2 = 1e-5


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 128)
        self.fc2 = nn.Linear(128, 64)
        self.fc3 = nn.Linear(64, 10)

    def forward(self, x):
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


def l2_norm(model):
    return sum((p ** 2).sum() for name, p in model.named_parameters() if "weight" in name)


transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))])
train_loader = DataLoader(
    datasets.MNIST("./data", train=True, download=True, transform=transform),
    batch_size=64, shuffle=True)
test_loader = DataLoader(
    datasets.MNIST("./data", train=False, download=True, transform=transform),
    batch_size=1000)

model = MLP()
optimizer = torch.optim.Adam(model.parameters(), lr=0.001)

for epoch in range(10):
    model.train()
    ce_total = 0.0
    for x, y in train_loader:
        optimizer.zero_grad()
        logits = model(x)
        ce = F.cross_entropy(logits, y)
        l2 = l2_norm(model)
        (ce + LAMBDA_L2 * l2).backward()
        optimizer.step()
        ce_total += ce.item()
    print(f"Epoch {epoch + 1}: cross-entropy = {ce_total / len(train_loader):.4f}")

model.eval()
correct = 0
n = 0
with torch.no_grad():
    for x, y in test_loader:
        correct += (model(x).argmax(1) == y).sum().item()
        n += y.numel()
print(f"Test accuracy: {correct / n:.2%}")
