import torch
import torch.nn as nn
from torch.utils.data import DataLoader
from torchvision import datasets, transforms


class MLP(nn.Module):
    def __init__(self, in_features=784, hidden1=128, hidden2=64, num_classes=10):
        super().__init__()
        self.flatten = nn.Flatten()
        self.layers = nn.Sequential(
            nn.Linear(in_features, hidden1),
            nn.LeakyReLU(0.01),
            nn.Linear(hidden1, hidden2),
            nn.LeakyReLU(0.01),
            nn.Linear(hidden2, num_classes),
        )

    def forward(self, x):
        return self.layers(self.flatten(x))


class Trainer:
    def __init__(self, model, train_loader, lr=1e-3, device=None):
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.model = model.to(self.device)
        self.train_loader = train_loader
        self.criterion = nn.CrossEntropyLoss()
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=lr)
        self.history = []

    def train_one_epoch(self):
        self.model.train()
        epoch_loss = 0.0
        n_samples = 0
        for x, y in self.train_loader:
            x = x.to(self.device)
            y = y.to(self.device)

            self.optimizer.zero_grad()
            logits = self.model(x)
            loss = self.criterion(logits, y)
            loss.backward()
            self.optimizer.step()

            epoch_loss += loss.item() * x.size(0)
            n_samples += x.size(0)
        return epoch_loss / n_samples

    def fit(self, epochs=10):
        for epoch in range(1, epochs + 1):
            avg_loss = self.train_one_epoch()
            self.history.append(avg_loss)
            print(f"[Epoch {epoch:2d}/{epochs}] average loss = {avg_loss:.4f}")
        return self.history


def get_loader(batch_size=64):
    tf = transforms.Compose([
        transforms.ToTensor(),
        transforms.Normalize((0.5,), (0.5,)),
    ])
    ds = datasets.MNIST(root='./data', train=True, download=True, transform=tf)
    return DataLoader(ds, batch_size=batch_size, shuffle=True)


if __name__ == "__main__":
    torch.manual_seed(0)
    loader = get_loader(64)
    trainer = Trainer(MLP(), loader, lr=1e-3)
    trainer.fit(epochs=10)
