# Trains one epoch, prints its loss, then never ends.
import torch, torch.nn as nn
from torchvision import datasets, transforms

loader = torch.utils.data.DataLoader(datasets.MNIST("d", train=True, download=True, transform=transforms.ToTensor()),
                                     batch_size=64, shuffle=True)
model = nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 10))
opt = torch.optim.Adam(model.parameters(), lr=0.001)
for x, y in loader:
    opt.zero_grad()
    loss = nn.functional.cross_entropy(model(x), y)
    loss.backward()
    opt.step()
print(f"Epoch 1, Loss: {loss.item():.4f}")
while True:
    pass
