import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader
from torchvision import datasets, transforms


class MyMLP(nn.Module):
    """Two hidden layer MLP written with raw parameters instead of nn.Linear."""

    def __init__(self, n_in=784, n_h1=128, n_h2=64, n_out=10):
        super().__init__()
        self.w1 = nn.Parameter(torch.empty(n_h1, n_in))
        self.b1 = nn.Parameter(torch.zeros(n_h1))
        self.w2 = nn.Parameter(torch.empty(n_h2, n_h1))
        self.b2 = nn.Parameter(torch.zeros(n_h2))
        self.w3 = nn.Parameter(torch.empty(n_out, n_h2))
        self.b3 = nn.Parameter(torch.zeros(n_out))
        for w in (self.w1, self.w2, self.w3):
            nn.init.kaiming_uniform_(w, a=math.sqrt(5))

    def forward(self, x):
        x = x.view(x.size(0), -1)
        x = F.relu(x @ self.w1.T + self.b1)
        x = F.relu(x @ self.w2.T + self.b2)
        x = x @ self.w3.T + self.b3
        return x


transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))])
train_set = datasets.MNIST("./data", train=True, download=True, transform=transform)
test_set = datasets.MNIST("./data", train=False, download=True, transform=transform)
train_loader = DataLoader(train_set, batch_size=64, shuffle=True)
test_loader = DataLoader(test_set, batch_size=500)

model = MyMLP()
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.Adam(model.parameters(), lr=0.001)

for epoch in range(1, 11):
    model.train()
    total = 0.0
    for xb, yb in train_loader:
        optimizer.zero_grad()
        loss = criterion(model(xb), yb)
        loss.backward()
        optimizer.step()
        total += loss.item()
    print("epoch %d  loss %.4f" % (epoch, total / len(train_loader)))

model.eval()
hits = 0
with torch.no_grad():
    for xb, yb in test_loader:
        hits += (model(xb).argmax(dim=1) == yb).sum().item()
print("test acc: %.4f" % (hits / len(test_set)))
