import torch
from torch import nn, optim
from torch.utils.data import DataLoader
from torchvision import datasets, transforms

BATCH_SIZE = 64
LEARNING_RATE = 0.001
EPOCHS = 10

transform = transforms.Compose([
    transforms.ToTensor(),
    transforms.Normalize((0.5,), (0.5,)),
])

trainset = datasets.MNIST(root='./data', train=True, download=True, transform=transform)
trainloader = DataLoader(trainset, batch_size=BATCH_SIZE, shuffle=True)

model = nn.Sequential(
    nn.Flatten(),
    nn.Linear(784, 128),
    nn.Softplus(),
    nn.Linear(128, 64),
    nn.Softplus(),
    nn.Linear(64, 10),
)

device = "cuda" if torch.cuda.is_available() else "cpu"
model.to(device)

loss_fn = nn.CrossEntropyLoss()
optimizer = optim.Adam(model.parameters(), lr=LEARNING_RATE)
# halve the learning rate every 3 epochs
scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=3, gamma=0.5)

for i in range(EPOCHS):
    running_loss = 0.0
    n_batches = 0
    for x, y in trainloader:
        x = x.to(device)
        y = y.to(device)

        optimizer.zero_grad()
        pred = model(x)
        loss = loss_fn(pred, y)
        loss.backward()
        optimizer.step()

        n_batches += 1
        # incremental running average of the batch losses
        running_loss += (loss.item() - running_loss) / n_batches

    scheduler.step()
    print(f"epoch {i + 1}: loss {running_loss:.4f}")
