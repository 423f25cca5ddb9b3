import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
import torchvision
import torchvision.transforms as transforms

BATCH_SIZE = 64
EPOCHS = 10
WEIGHT_PENALTY = 1e-4

transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))])
trainset = torchvision.datasets.MNIST(root='./data', train=True, download=True, transform=transform)
testset = torchvision.datasets.MNIST(root='./data', train=False, download=True, transform=transform)
trainloader = torch.utils.data.DataLoader(trainset, batch_size=BATCH_SIZE, shuffle=True)
testloader = torch.utils.data.DataLoader(testset, batch_size=BATCH_SIZE, shuffle=False)


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 128)
        self.fc2 = nn.Linear(128, 64)
        self.fc3 = nn.Linear(64, 10)

    def forward(self, x):
        x = x.flatten(1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)

    def weight_norm(self):
        return sum((m.weight ** 2).sum() for m in (self.fc1, self.fc2, self.fc3))


net = MLP()
criterion = nn.CrossEntropyLoss()
optimizer = optim.Adam(net.parameters(), lr=0.001)

for epoch in range(EPOCHS):
    ce_sum = 0.0
    batches = 0
    for inputs, labels in trainloader:
        optimizer.zero_grad()
        output = net(inputs)
        total_loss = criterion(output, labels) + WEIGHT_PENALTY * net.weight_norm()
        total_loss.backward()
        optimizer.step()
        # only log the data term
        ce_sum += criterion(output.detach(), labels).item()
        batches += 1
    print("Epoch %2d: cross-entropy %.4f" % (epoch + 1, ce_sum / batches))

correct = total = 0
with torch.no_grad():
    for inputs, labels in testloader:
        predicted = net(inputs).argmax(dim=1)
        total += labels.size(0)
        correct += (predicted == labels).sum().item()
print("Accuracy: %.2f %%" % (100 * correct / total))
