import torch
import torch.nn as nn
import torch.optim as optim
from torch.utils.data import DataLoader
from torchvision import datasets, transforms


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.model = nn.Sequential(
            nn.Linear(784, 128),
            nn.ReLU(),
            nn.Linear(128, 64),
            nn.ReLU(),
            nn.Linear(64, 10),
        )

    def forward(self, x):
        return self.model(x.view(x.size(0), -1))


class Trainer:
    def __init__(self, model, lr=0.001, smoothing=0.05):
        self.model = model
        self.criterion = nn.CrossEntropyLoss()
        self.smooth_criterion = nn.CrossEntropyLoss(label_smoothing=smoothing)
        self.optimizer = optim.Adam(model.parameters(), lr=lr)

    def run_epoch(self, loader):
        self.model.train()
        epoch_loss = 0.0
        for data, target in loader:
            self.optimizer.zero_grad()
            output = self.model(data)
            self.smooth_criterion(output, target).backward()
            self.optimizer.step()
            epoch_loss += self.criterion(output, target).item()
        return epoch_loss / len(loader)

    def fit(self, loader, epochs=10):
        for epoch in range(epochs):
            loss = self.run_epoch(loader)
            print(f"Epoch {epoch + 1:>2}/{epochs}: loss {loss:.4f}")

    @torch.no_grad()
    def evaluate(self, loader):
        self.model.eval()
        correct = sum((self.model(x).argmax(1) == y).sum().item() for x, y in loader)
        return correct / len(loader.dataset)


if __name__ == "__main__":
    transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))])
    train_ds = datasets.MNIST(root='./data', train=True, download=True, transform=transform)
    test_ds = datasets.MNIST(root='./data', train=False, download=True, transform=transform)
    trainer = Trainer(Model())
    trainer.fit(DataLoader(train_ds, batch_size=64, shuffle=True), epochs=10)
    print(f"Test accuracy: {trainer.evaluate(DataLoader(test_ds, batch_size=64)):.4f}")
