import torch
from torch import nn
from torch.utils.data import DataLoader
from torchvision import datasets, transforms


def get_data(batch_size=64):
    tf = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))])
    train = datasets.MNIST(root='./data', train=True, download=True, transform=tf)
    test = datasets.MNIST(root='./data', train=False, download=True, transform=tf)
    return DataLoader(train, batch_size=batch_size, shuffle=True), DataLoader(test, batch_size=batch_size)


def main():
    device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')
    train_loader, val_loader = get_data()

    model = nn.Sequential(
        nn.Flatten(),
        nn.Linear(784, 128), nn.ReLU(),
        nn.Linear(128, 64), nn.ReLU(),
        nn.Linear(64, 10),
    ).to(device)

    train_criterion = nn.CrossEntropyLoss(label_smoothing=0.1)  # regularization
    val_criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.001)

    for epoch in range(10):
        model.train()
        for x, y in train_loader:
            x, y = x.to(device), y.to(device)
            optimizer.zero_grad()
            loss = train_criterion(model(x), y)
            loss.backward()
            optimizer.step()

        model.eval()
        val_loss, correct, n = 0.0, 0, 0
        with torch.inference_mode():
            for x, y in val_loader:
                x, y = x.to(device), y.to(device)
                out = model(x)
                val_loss += val_criterion(out, y).item() * x.size(0)
                correct += (out.argmax(1) == y).sum().item()
                n += x.size(0)
        print(f"epoch {epoch + 1:2d} | val loss {val_loss / n:.4f} | val acc {correct / n:.4f}")


if __name__ == '__main__':
    main()
