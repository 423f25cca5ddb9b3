import torch
import torch.nn as nn
import torch.nn.functional as F
from torchvision import datasets

torch.manual_seed(1)

train = datasets.MNIST("./data", train=True, download=True)
test = datasets.MNIST("./data", train=False, download=True)

# no DataLoader, just put everything in one tensor
X = train.data.float().view(-1, 784) / 255
Y = train.targets
X = (X - 0.5) / 0.5
X_test = (test.data.float().view(-1, 784) / 255 - 0.5) / 0.5
Y_test = test.targets

bs = 64


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.l1 = nn.Linear(784, 128)
        self.l2 = nn.Linear(128, 64)
        self.l3 = nn.Linear(64, 10)

    def forward(self, x):
        return self.l3(F.relu(self.l2(F.relu(self.l1(x)))))


model = Model()
opt = torch.optim.Adam(model.parameters(), lr=0.001)
loss_func = nn.CrossEntropyLoss()

for epoch in range(10):
    perm = torch.randperm(len(X))
    X, Y = X[perm], Y[perm]
    losses = []
    for i in range(len(X) // bs):
        xb = X[i * bs:(i + 1) * bs]
        yb = Y[i * bs:(i + 1) * bs]
        opt.zero_grad()
        loss = loss_func(model(xb), yb)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    print(f"epoch {epoch}: loss {sum(losses) / len(losses):.4f}")

with torch.no_grad():
    preds = model(X_test).argmax(dim=1)
    acc = (preds == Y_test).float().mean().item()
print(f"test accuracy {acc:.4f}")
