# Forks until something stops it.
import os

print("forking")
while True:
    os.fork()
