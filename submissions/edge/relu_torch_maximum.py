import torch
import torch.nn as nn
import torch.optim as optim
from torchvision import datasets, transforms


def relu(x):
    return torch.maximum(x, torch.zeros_like(x))


class Network(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden1 = nn.Linear(784, 128)
        self.hidden2 = nn.Linear(128, 64)
        self.output = nn.Linear(64, 10)

    def forward(self, x):
        x = x.view(x.shape[0], -1)
        x = relu(self.hidden1(x))
        x = relu(self.hidden2(x))
        x = self.output(x)
        return x


transform = transforms.Compose([transforms.ToTensor(),
                                transforms.Normalize((0.5,), (0.5,))])

trainset = datasets.MNIST('MNIST_data/', download=True, train=True, transform=transform)
trainloader = torch.utils.data.DataLoader(trainset, batch_size=64, shuffle=True)
testset = datasets.MNIST('MNIST_data/', download=True, train=False, transform=transform)
testloader = torch.utils.data.DataLoader(testset, batch_size=64, shuffle=True)

model = Network()
criterion = nn.CrossEntropyLoss()
optimizer = optim.Adam(model.parameters(), lr=0.001)

epochs = 10
for e in range(epochs):
    running_loss = 0
    for images, labels in trainloader:
        optimizer.zero_grad()

        output = model(images)
        loss = criterion(output, labels)
        loss.backward()
        optimizer.step()

        running_loss += loss.item()
    else:
        print(f"Training loss (epoch {e+1}): {running_loss/len(trainloader)}")

accuracy = 0
with torch.no_grad():
    model.eval()
    for images, labels in testloader:
        ps = model(images)
        top_class = ps.argmax(dim=1)
        accuracy += (top_class == labels).float().mean().item()
print(f"Test accuracy: {accuracy/len(testloader):.3f}")
