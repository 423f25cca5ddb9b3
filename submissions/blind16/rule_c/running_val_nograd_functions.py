import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, random_split
from torchvision import datasets, transforms

torch.manual_seed(0)


def build_model():
    return nn.Sequential(nn.Flatten(),
                         nn.Linear(784, 128), nn.ReLU(),
                         nn.Linear(128, 64), nn.ReLU(),
                         nn.Linear(64, 10))


def l2_penalty(model):
    return sum(p.pow(2).sum() for name, p in model.named_parameters() if 'weight' in name)


def train_epoch(model, loader, optimizer, lam=1e-4):
    model.train()
    for x, y in loader:
        optimizer.zero_grad()
        logits = model(x)
        loss = F.cross_entropy(logits, y) + lam * l2_penalty(model)
        loss.backward()
        optimizer.step()


def evaluate(model, loader):
    model.eval()
    total_loss, correct = 0.0, 0
    with torch.no_grad():
        for x, y in loader:
            logits = model(x)
            total_loss += F.cross_entropy(logits, y, reduction='sum').item()
            correct += (logits.argmax(1) == y).sum().item()
    n = len(loader.dataset)
    return total_loss / n, correct / n


def main():
    tf = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))])
    full = datasets.MNIST(root='./data', train=True, download=True, transform=tf)
    n_val = len(full) // 10
    train_set, val_set = random_split(full, [len(full) - n_val, n_val])
    test_set = datasets.MNIST(root='./data', train=False, download=True, transform=tf)

    train_loader = DataLoader(train_set, batch_size=64, shuffle=True)
    val_loader = DataLoader(val_set, batch_size=64)
    test_loader = DataLoader(test_set, batch_size=64)

    model = build_model()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.001)

    for epoch in range(10):
        train_epoch(model, train_loader, optimizer)
        val_loss, val_acc = evaluate(model, val_loader)
        print(f"Epoch {epoch + 1}: val_loss={val_loss:.4f} val_acc={val_acc:.3f}")

    test_loss, test_acc = evaluate(model, test_loader)
    print(f"Test: loss={test_loss:.4f} acc={test_acc:.3f}")


if __name__ == "__main__":
    main()
