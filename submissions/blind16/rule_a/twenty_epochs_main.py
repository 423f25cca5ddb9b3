"""MNIST classifier - homework 3"""
import torch
from torch import nn, optim
from torch.utils.data import DataLoader
from torchvision import datasets, transforms

EPOCHS = 20   # more epochs = better accuracy
BATCH_SIZE = 64
LR = 1e-3


def get_loaders():
    tfm = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))])
    train = datasets.MNIST(root='./data', train=True, download=True, transform=tfm)
    test = datasets.MNIST(root='./data', train=False, download=True, transform=tfm)
    return (DataLoader(train, batch_size=BATCH_SIZE, shuffle=True),
            DataLoader(test, batch_size=BATCH_SIZE))


def build_model():
    return nn.Sequential(
        nn.Flatten(),
        nn.Linear(784, 128),
        nn.ReLU(),
        nn.Linear(128, 64),
        nn.ReLU(),
        nn.Linear(64, 10),
    )


def evaluate(model, loader, device):
    model.eval()
    correct = 0
    with torch.no_grad():
        for x, y in loader:
            x, y = x.to(device), y.to(device)
            correct += (model(x).argmax(dim=1) == y).sum().item()
    return correct / len(loader.dataset)


def main():
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    train_loader, test_loader = get_loaders()
    model = build_model().to(device)
    loss_fn = nn.CrossEntropyLoss()
    opt = optim.Adam(model.parameters(), lr=LR)

    for epoch in range(1, EPOCHS + 1):
        model.train()
        total = 0.0
        for x, y in train_loader:
            x, y = x.to(device), y.to(device)
            opt.zero_grad()
            out = model(x)
            loss = loss_fn(out, y)
            loss.backward()
            opt.step()
            total += loss.item() * x.size(0)
        print(f"epoch {epoch:2d}/{EPOCHS}  loss = {total / len(train_loader.dataset):.4f}")

    print(f"test accuracy: {evaluate(model, test_loader, device):.4f}")


if __name__ == "__main__":
    main()
