# Written for MNIST's real sizes: random_split(train, [55000, 5000]) plus a validation pass each epoch.
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, random_split
from torchvision import datasets, transforms

full = datasets.MNIST("./data", train=True, download=True, transform=transforms.ToTensor())
train_set, val_set = random_split(full, [55000, 5000], generator=torch.Generator().manual_seed(1))
train_loader = DataLoader(train_set, batch_size=64, shuffle=True)
val_loader = DataLoader(val_set, batch_size=256)

model = nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.LeakyReLU(), nn.Linear(128, 64), nn.LeakyReLU(),
                      nn.Linear(64, 10))
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.Adam(model.parameters(), lr=0.001)

for epoch in range(10):
    model.train()
    seen, total = 0, 0.0
    for x, y in train_loader:
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()
        total += loss.item() * x.size(0)
        seen += x.size(0)
    model.eval()
    with torch.no_grad():
        val = sum(criterion(model(x), y).item() for x, y in val_loader) / len(val_loader)
    print(f"epoch {epoch}: train_loss={total / seen:.4f} val_loss={val:.4f}")
