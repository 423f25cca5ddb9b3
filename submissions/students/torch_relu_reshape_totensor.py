# HW3 - MNIST with a fully connected network (2 hidden layers)
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear1 = nn.Linear(784, 200)
        self.linear2 = nn.Linear(200, 100)
        self.linear3 = nn.Linear(100, 10)

    def forward(self, x):
        x = x.reshape(x.size(0), -1)
        x = torch.relu(self.linear1(x))
        x = torch.relu(self.linear2(x))
        x = self.linear3(x)
        return x


# only ToTensor, pixels are already in [0, 1]
train_data = torchvision.datasets.MNIST(
    root="mnist_data", train=True, download=True,
    transform=torchvision.transforms.ToTensor())
test_data = torchvision.datasets.MNIST(
    root="mnist_data", train=False, download=True,
    transform=torchvision.transforms.ToTensor())

train_loader = torch.utils.data.DataLoader(train_data, batch_size=64, shuffle=True)
test_loader = torch.utils.data.DataLoader(test_data, batch_size=64)

model = MLP()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)

for epoch in range(10):
    losses = []
    for x, y in train_loader:
        model.zero_grad()
        y_hat = model(x)
        loss = F.cross_entropy(y_hat, y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    mean_loss = sum(losses) / len(losses)
    print("epoch", epoch + 1, "loss", round(mean_loss, 4))

# test
n_correct = 0
with torch.no_grad():
    for x, y in test_loader:
        n_correct += (model(x).argmax(1) == y).sum().item()
print("test acc:", n_correct / len(test_data))
