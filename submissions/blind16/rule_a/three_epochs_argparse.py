import argparse

import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.utils.data import DataLoader
from torchvision import datasets, transforms


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.l1 = nn.Linear(28 * 28, 128)
        self.l2 = nn.Linear(128, 64)
        self.l3 = nn.Linear(64, 10)

    def forward(self, x):
        x = torch.flatten(x, 1)
        x = F.relu(self.l1(x))
        x = F.relu(self.l2(x))
        return self.l3(x)


def parse_args():
    p = argparse.ArgumentParser(description="MNIST MLP")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=0.001)
    return p.parse_args()


def main():
    args = parse_args()
    transform = transforms.Compose([transforms.ToTensor(),
                                    transforms.Normalize((0.5,), (0.5,))])
    trainset = datasets.MNIST(root='./data', train=True, download=True, transform=transform)
    testset = datasets.MNIST(root='./data', train=False, download=True, transform=transform)
    trainloader = DataLoader(trainset, batch_size=args.batch_size, shuffle=True)
    testloader = DataLoader(testset, batch_size=args.batch_size, shuffle=False)

    net = MLP()
    criterion = nn.CrossEntropyLoss()
    optimizer = optim.Adam(net.parameters(), lr=args.lr)

    for epoch in range(args.epochs):
        epoch_loss = 0.0
        n = 0
        for inputs, targets in trainloader:
            optimizer.zero_grad()
            outputs = net(inputs)
            loss = criterion(outputs, targets)
            loss.backward()
            optimizer.step()
            epoch_loss += loss.item()
            n += 1
        print("Epoch %d/%d - loss: %.4f" % (epoch + 1, args.epochs, epoch_loss / n))

    correct, total = 0, 0
    net.eval()
    with torch.no_grad():
        for inputs, targets in testloader:
            pred = net(inputs).argmax(1)
            correct += (pred == targets).sum().item()
            total += targets.size(0)
    print("Accuracy on test set: %.2f%%" % (100.0 * correct / total))


if __name__ == "__main__":
    main()
