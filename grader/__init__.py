"""grader: autograder for the PyTorch MNIST training-loop exercise.

Kept import-free: the harness imports this package inside the sandbox, where only
the standard library, torch and torchvision may be loaded.
"""

__version__ = "0.1.0"
