# Waits for something that never comes (input, a lock, a server): uses no CPU, so only the wall-clock
# backstop (timeout x wall_factor) stops it. The consumer tests grade it with a short --timeout.
import time

print("waiting for a signal that never comes", flush=True)
time.sleep(3600)
