# Leaves processes behind: a child in its own session and a double-forked daemon, then exits normally.
import os, subprocess, sys

subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)  # __TOKEN__ child"], start_new_session=True,
                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.execv(sys.executable, [sys.executable, "-c", "import time; time.sleep(600)  # __TOKEN__ daemon"])
    os._exit(0)
print("left two processes running")
