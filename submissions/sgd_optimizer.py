# Used SGD instead of Adam.
import torch
import torch.nn as nn
import torch.nn.functional as F
from torchvision import datasets, transforms


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.l1 = nn.Linear(784, 128)
        self.l2 = nn.Linear(128, 64)
        self.l3 = nn.Linear(64, 10)

    def forward(self, x):
        x = x.view(x.size(0), -1)
        return self.l3(F.relu(self.l2(F.relu(self.l1(x)))))


data = datasets.MNIST("mnist_data", train=True, download=True,
                      transform=transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))]))
loader = torch.utils.data.DataLoader(data, batch_size=64, shuffle=True)
net = MLP()
opt = torch.optim.SGD(net.parameters(), lr=0.1)
loss_fn = nn.CrossEntropyLoss()
for epoch in range(10):
    total = 0.0
    for x, y in loader:
        opt.zero_grad()
        loss = loss_fn(net(x), y)
        loss.backward()
        opt.step()
        total += loss.item()
    print(f"epoch {epoch + 1}: loss {total / len(loader):.4f}")
