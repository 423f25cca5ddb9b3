import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
import torchvision
import torchvision.transforms as transforms
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden1 = nn.Linear(28 * 28, 128)
        self.hidden2 = nn.Linear(128, 64)
        self.out = nn.Linear(64, 10)

    def forward(self, x):
        x = torch.flatten(x, 1)
        x = F.relu(self.hidden1(x))
        x = F.relu(self.hidden2(x))
        return self.out(x)


def main():
    transform = transforms.Compose([
        transforms.ToTensor(),
        transforms.Normalize((0.5,), (0.5,))
    ])
    train_data = torchvision.datasets.MNIST(root='./data', train=True, download=True, transform=transform)
    train_loader = torch.utils.data.DataLoader(train_data, batch_size=64, shuffle=True)

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    net = MLP().to(device)
    criterion = nn.CrossEntropyLoss()
    optimizer = optim.Adam(net.parameters(), lr=0.001)

    epochs = 10
    epoch_losses = []

    for epoch in range(epochs):
        net.train()
        loss_sum = 0.0
        n_samples = 0
        for inputs, targets in train_loader:
            inputs, targets = inputs.to(device), targets.to(device)

            optimizer.zero_grad()
            outputs = net(inputs)
            loss = criterion(outputs, targets)
            loss.backward()
            optimizer.step()

            # weight by batch size so the last (smaller) batch counts correctly
            loss_sum += loss.item() * inputs.size(0)
            n_samples += inputs.size(0)

        epoch_loss = loss_sum / n_samples
        epoch_losses.append(epoch_loss)
        print("Epoch {}/{} - loss: {:.4f}".format(epoch + 1, epochs, epoch_loss))

    plt.figure(figsize=(7, 4))
    plt.plot(range(1, epochs + 1), epoch_losses, marker="o")
    plt.xlabel("Epoch")
    plt.ylabel("Training loss")
    plt.title("MNIST training loss")
    plt.grid(True)
    plt.tight_layout()
    plt.savefig("training_loss.png")
    print("Saved loss curve to training_loss.png")


if __name__ == "__main__":
    main()
