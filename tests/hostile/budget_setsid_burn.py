# Burns __BURN__ s of CPU in a child that calls setsid(), outside the harness's process group, while this
# process waits (in waitpid, using no CPU); then trains as the reference does. That CPU is the submission's: it must
# count against the budget (the kernel's cgroup accounting sees every process the submission starts).
import subprocess, sys

BURN = ("import time\nfor n in range(1, __BURN__ + 1):\n    t = time.process_time()\n"
        "    while time.process_time() - t < 1:\n        pass\n    print('burned', n, flush=True)")
subprocess.run([sys.executable, "-c", BURN + "  # __TOKEN__ burner"], start_new_session=True)
print("BURNED __BURN__ s of CPU in another session")

# then the reference solution, filled in by the test
__REFERENCE__
