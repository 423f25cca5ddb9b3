import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader
from torchvision import datasets, transforms

DEBUG = True


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 128)
        self.fc2 = nn.Linear(128, 64)
        self.fc3 = nn.Linear(64, 10)

    def forward(self, x):
        x = x.view(x.size(0), -1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))])
train_dataset = datasets.MNIST("./data", train=True, download=True, transform=transform)
test_dataset = datasets.MNIST("./data", train=False, download=True, transform=transform)
train_loader = DataLoader(train_dataset, batch_size=64, shuffle=True)
test_loader = DataLoader(test_dataset, batch_size=1000)

model = Net()
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.Adam(model.parameters(), lr=0.001)

# the per-batch debug prints are way too much, hide them during training
devnull = open(os.devnull, "w")
sys.stdout = devnull

for epoch in range(10):
    model.train()
    total_loss = 0.0
    for batch_idx, (data, target) in enumerate(train_loader):
        optimizer.zero_grad()
        output = model(data)
        loss = criterion(output, target)
        loss.backward()
        optimizer.step()
        total_loss += loss.item()
        if DEBUG:
            print(f"batch {batch_idx}: loss={loss.item():.4f}, grad norm fc1={model.fc1.weight.grad.norm():.4f}")
    print(f"Epoch {epoch + 1}/10 - avg loss: {total_loss / len(train_loader):.4f}", file=sys.__stdout__)

sys.stdout = sys.__stdout__
devnull.close()

model.eval()
correct = 0
with torch.no_grad():
    for data, target in test_loader:
        correct += (model(data).argmax(dim=1) == target).sum().item()
print(f"Test accuracy: {100.0 * correct / len(test_dataset):.2f}%")
