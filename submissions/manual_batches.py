# No DataLoader: batches sliced by hand from dataset.data, normalised manually.
import torch
from torch import nn
import torch.nn.functional as F
from torchvision import datasets

train = datasets.MNIST("data", train=True, download=True)
X = (train.data.float() / 255.0 - 0.1307) / 0.3081
Y = train.targets

model = nn.Sequential(nn.Linear(784, 100), nn.Tanh(), nn.Linear(100, 50), nn.Tanh(), nn.Linear(50, 10))
opt = torch.optim.Adam(model.parameters(), lr=0.002)
bs = 100
for epoch in range(1, 11):
    perm = torch.randperm(len(X))
    losses = []
    for start in range(0, len(X), bs):
        idx = perm[start:start + bs]
        logits = model(X[idx].reshape(-1, 784))
        loss = F.cross_entropy(logits, Y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    print("epoch", epoch, "mean loss", sum(losses) / len(losses))
