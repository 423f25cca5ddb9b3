import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader
from torchvision import datasets, transforms
from tqdm.auto import tqdm


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(28 * 28, 128)
        self.fc2 = nn.Linear(128, 64)
        self.fc3 = nn.Linear(64, 10)

    def forward(self, x):
        x = torch.flatten(x, 1)
        return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))


def train(model, loader, optimizer, criterion, epoch):
    model.train()
    total = 0.0
    bar = tqdm(loader, desc=f"epoch {epoch}", unit="batch")
    for n, (data, target) in enumerate(bar, 1):
        optimizer.zero_grad()
        output = model(data)
        loss = criterion(output, target)
        loss.backward()
        optimizer.step()
        total += loss.item()
        if n % 20 == 0 or n == len(loader):
            bar.set_postfix_str(f"loss={total / n:.4f}")


def test(model, loader):
    model.eval()
    correct = 0
    with torch.no_grad():
        for data, target in loader:
            correct += model(data).argmax(1).eq(target).sum().item()
    return correct / len(loader.dataset)


if __name__ == "__main__":
    tf = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))])
    train_loader = DataLoader(datasets.MNIST(root='./data', train=True, download=True, transform=tf),
                              batch_size=64, shuffle=True)
    test_loader = DataLoader(datasets.MNIST(root='./data', train=False, download=True, transform=tf),
                             batch_size=64)
    model = Net()
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.001)
    for epoch in range(1, 11):
        train(model, train_loader, optimizer, criterion, epoch)
    print(f"test accuracy: {test(model, test_loader):.4f}")
