"""Code that runs inside the sandbox. Imports only the standard library, torch and torchvision."""
