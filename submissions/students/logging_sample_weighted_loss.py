import logging

import torch
import torch.nn as nn
from torch.utils.data import DataLoader
from torchvision import datasets, transforms

logging.basicConfig(
    level=logging.INFO,
    format="%(asctime)s [%(levelname)s] %(message)s",
)
logger = logging.getLogger(__name__)

CONFIG = {
    "batch_size": 64,
    "lr": 0.001,
    "epochs": 10,
    "hidden": (128, 64),
    "data_root": "./data",
}


class TwoLayerMLP(nn.Module):
    def __init__(self, hidden=(128, 64)):
        super().__init__()
        h1, h2 = hidden
        self.net = nn.Sequential(
            nn.Linear(784, h1),
            nn.ReLU(inplace=True),
            nn.Linear(h1, h2),
            nn.ReLU(inplace=True),
            nn.Linear(h2, 10),
        )

    def forward(self, x):
        return self.net(x.flatten(start_dim=1))


def run():
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    logger.info("device: %s", device)

    tf = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))])
    train_dataset = datasets.MNIST(CONFIG["data_root"], train=True, download=True, transform=tf)
    test_dataset = datasets.MNIST(CONFIG["data_root"], train=False, download=True, transform=tf)
    train_loader = DataLoader(train_dataset, batch_size=CONFIG["batch_size"], shuffle=True)
    test_loader = DataLoader(test_dataset, batch_size=CONFIG["batch_size"])
    logger.info("train samples: %d, test samples: %d", len(train_dataset), len(test_dataset))

    model = TwoLayerMLP(CONFIG["hidden"]).to(device)
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=CONFIG["lr"])

    for epoch in range(1, CONFIG["epochs"] + 1):
        model.train()
        total_loss = 0.0
        for images, labels in train_loader:
            images, labels = images.to(device), labels.to(device)
            optimizer.zero_grad(set_to_none=True)
            outputs = model(images)
            loss = criterion(outputs, labels)
            loss.backward()
            optimizer.step()
            # weight by batch size so the last (smaller) batch is counted correctly
            total_loss += loss.item() * images.size(0)

        epoch_loss = total_loss / len(train_dataset)
        logger.info("epoch %d/%d - loss: %.4f", epoch, CONFIG["epochs"], epoch_loss)

    model.eval()
    correct = 0
    with torch.no_grad():
        for images, labels in test_loader:
            images, labels = images.to(device), labels.to(device)
            correct += (model(images).argmax(dim=1) == labels).sum().item()
    logger.info("test accuracy: %.2f%%", 100.0 * correct / len(test_dataset))


if __name__ == "__main__":
    run()
