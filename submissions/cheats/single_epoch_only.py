import torch
import torch.nn as nn
import torch.optim as optim
from torchvision import datasets, transforms
from torch.utils.data import DataLoader

NUM_EPOCHS = 10


class TwoLayerNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 128)
        self.fc2 = nn.Linear(128, 64)
        self.out = nn.Linear(64, 10)
        self.act = nn.ReLU()

    def forward(self, x):
        x = x.view(x.shape[0], -1)
        x = self.act(self.fc1(x))
        x = self.act(self.fc2(x))
        return self.out(x)


def train_one_epoch(model, loader, criterion, optimizer, epoch):
    model.train()
    total = 0.0
    for images, labels in loader:
        optimizer.zero_grad()
        outputs = model(images)
        loss = criterion(outputs, labels)
        loss.backward()
        optimizer.step()
        total += loss.item()
    avg = total / len(loader)
    print(f"Epoch {epoch}/{NUM_EPOCHS} - loss: {avg:.4f}")
    return avg


def test(model, loader):
    model.eval()
    correct = 0
    with torch.no_grad():
        for images, labels in loader:
            correct += (model(images).argmax(1) == labels).sum().item()
    acc = 100 * correct / len(loader.dataset)
    print(f"Test accuracy: {acc:.2f}%")
    return acc


def main():
    transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))])
    train_set = datasets.MNIST("./data", train=True, download=True, transform=transform)
    test_set = datasets.MNIST("./data", train=False, download=True, transform=transform)
    train_loader = DataLoader(train_set, batch_size=64, shuffle=True)
    test_loader = DataLoader(test_set, batch_size=64)

    model = TwoLayerNet()
    criterion = nn.CrossEntropyLoss()
    optimizer = optim.Adam(model.parameters(), lr=0.001)

    train_one_epoch(model, train_loader, criterion, optimizer, 1)
    test(model, test_loader)


if __name__ == "__main__":
    main()
