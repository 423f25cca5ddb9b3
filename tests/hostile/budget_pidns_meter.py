# Run by test_budget_accounting in a bubblewrap sandbox without root (its own pid namespace), with the
# standard library only: burns 1 s of CPU in a setsid child this process waits for, and 1 s in an orphan
# (double fork) that the namespace's init reaps, then prints what the pid-namespace meter counted.
import os, subprocess, sys

sys.path.insert(0, sys.argv[1])
import cpu  # noqa: E402

BURN = "import time\nt = time.process_time()\nwhile time.process_time() - t < 1:\n    pass"
before = cpu.namespace_seconds()
subprocess.run([sys.executable, "-c", BURN], start_new_session=True)
done_r, done_w = os.pipe()
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        subprocess.run([sys.executable, "-c", BURN])
        os._exit(0)  # done_w closes with it
    os._exit(0)
os.close(done_w)
os.wait()
os.read(done_r, 1)  # end of file: the orphan is gone (the namespace's init reaps it)
print(round(cpu.namespace_seconds() - before, 2))
