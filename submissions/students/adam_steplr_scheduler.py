import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.optim import Adam
from torch.optim.lr_scheduler import StepLR
from torchvision import datasets, transforms

device = torch.device("cuda" if torch.cuda.is_available() else "cpu")

# ---- data ----
transform = transforms.Compose([
    transforms.ToTensor(),
    transforms.Normalize((0.5,), (0.5,)),
])
train_set = datasets.MNIST("./mnist", train=True, download=True, transform=transform)
test_set = datasets.MNIST("./mnist", train=False, download=True, transform=transform)
train_loader = torch.utils.data.DataLoader(train_set, batch_size=64, shuffle=True)
test_loader = torch.utils.data.DataLoader(test_set, batch_size=128, shuffle=False)


# ---- model ----
class FeedForward(nn.Module):
    def __init__(self, in_dim=784, h1=128, h2=64, out_dim=10):
        super().__init__()
        self.l1 = nn.Linear(in_dim, h1)
        self.l2 = nn.Linear(h1, h2)
        self.l3 = nn.Linear(h2, out_dim)

    def forward(self, x):
        x = x.view(x.size(0), -1)
        x = F.relu(self.l1(x))
        x = F.relu(self.l2(x))
        return self.l3(x)


model = FeedForward().to(device)
criterion = nn.CrossEntropyLoss()
optimizer = Adam(model.parameters(), lr=0.001)
# halve the learning rate every 3 epochs
scheduler = StepLR(optimizer, step_size=3, gamma=0.5)

EPOCHS = 10
for epoch in range(EPOCHS):
    model.train()
    total_loss = 0.0
    for inputs, targets in train_loader:
        inputs, targets = inputs.to(device), targets.to(device)

        optimizer.zero_grad()
        outputs = model(inputs)
        loss = criterion(outputs, targets)
        loss.backward()
        optimizer.step()

        total_loss += loss.item()

    current_lr = scheduler.get_last_lr()[0]
    scheduler.step()

    # evaluate
    model.eval()
    correct, total = 0, 0
    with torch.no_grad():
        for inputs, targets in test_loader:
            inputs, targets = inputs.to(device), targets.to(device)
            predicted = model(inputs).argmax(dim=1)
            correct += (predicted == targets).sum().item()
            total += targets.size(0)

    print(f"Epoch [{epoch + 1}/{EPOCHS}] lr={current_lr:.6f} "
          f"loss={total_loss / len(train_loader):.4f} acc={100.0 * correct / total:.2f}%")

torch.save(model.state_dict(), "mnist_mlp.pt")
