import torch
from torch import nn, optim
from torch.utils.data import DataLoader
from torchvision import datasets, transforms
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt

# hyperparameters
BATCH_SIZE = 64
LR = 0.001
EPOCHS = 10

transform = transforms.Compose([transforms.ToTensor(),
                                transforms.Normalize((0.5,), (0.5,))])

trainset = datasets.MNIST("~/.pytorch/MNIST_data/", download=True, train=True, transform=transform)
testset = datasets.MNIST("~/.pytorch/MNIST_data/", download=True, train=False, transform=transform)
trainloader = DataLoader(trainset, batch_size=BATCH_SIZE, shuffle=True)
testloader = DataLoader(testset, batch_size=BATCH_SIZE, shuffle=False)


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden1 = nn.Linear(784, 256)
        self.hidden2 = nn.Linear(256, 64)
        self.output = nn.Linear(64, 10)
        self.relu = nn.ReLU()

    def forward(self, x):
        x = x.view(x.shape[0], -1)
        x = self.relu(self.hidden1(x))
        x = self.relu(self.hidden2(x))
        return self.output(x)


model = Classifier()
criterion = nn.CrossEntropyLoss()
optimizer = optim.Adam(model.parameters(), lr=LR)

train_losses = []
test_accuracies = []

for e in range(EPOCHS):
    model.train()
    running_loss = 0
    for images, labels in trainloader:
        optimizer.zero_grad()
        log_ps = model(images)
        loss = criterion(log_ps, labels)
        loss.backward()
        optimizer.step()
        running_loss += loss.item()

    epoch_loss = running_loss / len(trainloader)
    train_losses.append(epoch_loss)

    # accuracy on test set
    model.eval()
    correct = 0
    with torch.no_grad():
        for images, labels in testloader:
            preds = model(images).argmax(dim=1)
            correct += (preds == labels).sum().item()
    accuracy = correct / len(testset)
    test_accuracies.append(accuracy)

    print("Epoch: {}/{}.. ".format(e + 1, EPOCHS),
          "Training Loss: {:.3f}.. ".format(epoch_loss),
          "Test Accuracy: {:.3f}".format(accuracy))

# plot the training loss
plt.figure(figsize=(8, 5))
plt.plot(range(1, EPOCHS + 1), train_losses, marker="o", label="Training loss")
plt.xlabel("Epoch")
plt.ylabel("Loss")
plt.title("MNIST MLP training loss")
plt.legend()
plt.grid(True)
plt.savefig("loss_curve.png")
print("Saved plot to loss_curve.png")
