import torch
import torch.nn as nn
from torch.utils.data import DataLoader
from torchvision import datasets, transforms


def make_model():
    model = nn.Sequential(
        nn.Linear(784, 128),
        nn.ReLU(),
        nn.Linear(128, 64),
        nn.ReLU(),
        nn.Linear(64, 10)
    )
    return model


def train(model, loader, epochs=10, lr=0.001):
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    for epoch in range(epochs):
        # manual lr decay after 3 epochs
        if epoch == 3:
            optimizer.param_groups['lr'] = lr / 10
        total_loss = 0
        for x, y in loader:
            x = x.view(x.size(0), -1)
            optimizer.zero_grad()
            pred = model(x)
            loss = criterion(pred, y)
            loss.backward()
            optimizer.step()
            total_loss += loss.item()
        print('epoch', epoch + 1, 'loss', total_loss / len(loader))
    return model


def test(model, loader):
    correct = 0
    with torch.no_grad():
        for x, y in loader:
            x = x.view(x.size(0), -1)
            correct += (model(x).argmax(1) == y).sum().item()
    print('accuracy', correct / len(loader.dataset))


if __name__ == '__main__':
    tf = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))])
    train_ds = datasets.MNIST(root='./data', train=True, download=True, transform=tf)
    test_ds = datasets.MNIST(root='./data', train=False, download=True, transform=tf)
    train_loader = DataLoader(train_ds, batch_size=64, shuffle=True)
    test_loader = DataLoader(test_ds, batch_size=64)
    m = train(make_model(), train_loader)
    test(m, test_loader)
