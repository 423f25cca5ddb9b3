import torch
import torch.nn as nn
import torch.optim as optim
from torchvision import datasets

N = 60000          # number of training images in MNIST
BATCH_SIZE = 64
EPOCHS = 10

train_set = datasets.MNIST(root="data", train=True, download=True)
test_set = datasets.MNIST(root="data", train=False, download=True)


def preprocess(imgs):
    # uint8 [0, 255] -> float [-1, 1], same as ToTensor + Normalize(0.5, 0.5)
    x = imgs.float().view(-1, 784) / 255.0
    return (x - 0.5) / 0.5


model = nn.Sequential(
    nn.Linear(784, 128),
    nn.ReLU(),
    nn.Linear(128, 64),
    nn.ReLU(),
    nn.Linear(64, 10),
)
criterion = nn.CrossEntropyLoss()
optimizer = optim.Adam(model.parameters(), lr=0.001)

for epoch in range(EPOCHS):
    perm = torch.randperm(N)
    epoch_loss = 0.0
    num_batches = 0
    for start in range(0, N, BATCH_SIZE):
        idx = perm[start:start + BATCH_SIZE]
        xb = preprocess(train_set.data[idx])
        yb = train_set.targets[idx]

        optimizer.zero_grad()
        loss = criterion(model(xb), yb)
        loss.backward()
        optimizer.step()

        epoch_loss += loss.item()
        num_batches += 1
    print(f"Epoch {epoch + 1}/{EPOCHS}: loss {epoch_loss / num_batches:.4f}")

with torch.no_grad():
    logits = model(preprocess(test_set.data))
    accuracy = (logits.argmax(1) == test_set.targets).float().mean()
print(f"Test accuracy: {accuracy.item() * 100:.2f}%")
