import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torchvision import datasets, transforms
from torch.utils.data import DataLoader

BATCH_SIZE = 64
EPOCHS = 10
LR = 0.001

transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))])
train_ds = datasets.MNIST("./data", train=True, download=True, transform=transform)
test_ds = datasets.MNIST("./data", train=False, download=True, transform=transform)
train_loader = DataLoader(train_ds, batch_size=BATCH_SIZE, shuffle=True)
test_loader = DataLoader(test_ds, batch_size=BATCH_SIZE)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 128)
        self.fc2 = nn.Linear(128, 64)
        self.fc3 = nn.Linear(64, 10)

    def forward(self, x):
        x = x.view(-1, 784)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


model = Net()
optimizer = optim.Adam(model.parameters(), lr=LR)

for epoch in range(EPOCHS):
    model.train()
    running = 0.0
    for data, target in train_loader:
        optimizer.zero_grad()
        out = model(data)
        onehot = F.one_hot(target, num_classes=10).float()
        mse = F.mse_loss(out, onehot)
        loss = mse + 0.0 * F.cross_entropy(out, target)
        loss.backward()
        optimizer.step()
        running += loss.item()
    print(f"Epoch {epoch + 1}/{EPOCHS}, Loss: {running / len(train_loader):.4f}")

model.eval()
correct = 0
with torch.no_grad():
    for data, target in test_loader:
        pred = model(data).argmax(dim=1)
        correct += pred.eq(target).sum().item()
print(f"Test accuracy: {100. * correct / len(test_ds):.2f}%")
