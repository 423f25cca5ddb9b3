import torch
import torch.nn as nn
import torch.optim as optim
from torch.utils.data import DataLoader
from torchvision import datasets, transforms


class DigitNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.flatten = nn.Flatten()
        self.layers = nn.Sequential(
            nn.Linear(784, 128), nn.ReLU(),
            nn.Linear(128, 64), nn.ReLU(),
            nn.Linear(64, 10),
        )

    def forward(self, x):
        return self.layers(self.flatten(x))


class Trainer:
    def __init__(self, model, train_loader, test_loader, lr=0.001):
        self.model = model
        self.train_loader = train_loader
        self.test_loader = test_loader
        self.criterion = nn.CrossEntropyLoss()
        self.optimizer = optim.Adam(model.parameters(), lr=lr)

    def train_epoch(self):
        self.model.train()
        total = 0.0
        for x, y in self.train_loader:
            self.optimizer.zero_grad()
            loss = self.criterion(self.model(x), y)
            loss.backward()
            self.optimizer.step()
            total += loss.item()
        return total / len(self.train_loader)

    def fit(self, epochs):
        for epoch in range(epochs):
            loss = self.train_epoch()
            print(f"Epoch {epoch + 1}/{epochs} - loss {loss:.4f}")

    def accuracy(self):
        self.model.eval()
        correct = 0
        with torch.no_grad():
            for x, y in self.test_loader:
                correct += (self.model(x).argmax(1) == y).sum().item()
        return correct / len(self.test_loader.dataset)


if __name__ == "__main__":
    tfm = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))])
    train_ds = datasets.MNIST(root='./data', train=True, download=True, transform=tfm)
    test_ds = datasets.MNIST(root='./data', train=False, download=True, transform=tfm)
    trainer = Trainer(DigitNet(),
                      DataLoader(train_ds, batch_size=64, shuffle=True),
                      DataLoader(test_ds, batch_size=64))
    EPOCHS = 1  # quick test, TODO: set back to 10 before submitting
    trainer.fit(EPOCHS)
    print(f"Test accuracy: {trainer.accuracy():.4f}")
