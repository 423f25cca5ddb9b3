import torch
import torch.nn as nn
import torch.nn.functional as F
from torchvision import datasets, transforms

torch.manual_seed(0)

transform = transforms.Compose([
    transforms.ToTensor(),
    transforms.Normalize((0.5,), (0.5,)),
])
trainset = datasets.MNIST('./data', train=True, download=True, transform=transform)
testset = datasets.MNIST('./data', train=False, download=True, transform=transform)
trainloader = torch.utils.data.DataLoader(trainset, batch_size=64, shuffle=True)
testloader = torch.utils.data.DataLoader(testset, batch_size=64, shuffle=False)

# layers
fc1, fc2, fc3 = nn.Linear(784, 128), nn.Linear(128, 64), nn.Linear(64, 10)


def forward(x):
    return fc3(F.relu(fc2(F.relu(fc1(x)))))


params = list(fc1.parameters()) + list(fc2.parameters()) + list(fc3.parameters())
optimizer = torch.optim.Adam(params, lr=0.001)
criterion = nn.CrossEntropyLoss()

for epoch in range(10):
    running = 0.0
    for images, labels in trainloader:
        images = images.view(images.shape[0], -1)
        optimizer.zero_grad()
        output = forward(images)
        loss = criterion(output, labels)
        loss.backward()
        optimizer.step()
        running += loss.item()
    print(f"Epoch {epoch+1} - Training loss: {running/len(trainloader)}")

correct, total = 0, 0
with torch.no_grad():
    for images, labels in testloader:
        images = images.view(images.shape[0], -1)
        predicted = forward(images).argmax(dim=1)
        correct += (predicted == labels).sum().item()
        total += labels.size(0)
print(f"Accuracy on test set: {100 * correct / total:.2f} %")
