# A double-forked daemon (new session, parent gone) burns __BURN__ s of CPU in short-lived children that the
# kernel reaps itself (SIGCHLD ignored), so their CPU lands in no live process and in no parent's
# children-time; this process blocks on a pipe meanwhile, then trains as the reference does. Only the job's
# cgroup still counts that CPU.
import os, signal, sys, time

done_r, done_w = os.pipe()
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:  # the daemon  __TOKEN__
        signal.signal(signal.SIGCHLD, signal.SIG_IGN)
        burned = 0
        while burned < __BURN__:
            alive_r, alive_w = os.pipe()
            if os.fork() == 0:
                t = time.process_time()
                while time.process_time() - t < 1:
                    pass
                os._exit(0)
            os.close(alive_w)
            os.read(alive_r, 1)  # end of file: that child has exited
            os.close(alive_r)
            burned += 1
            os.write(1, b"burned %d\n" % burned)  # the raw descriptor: the harness's print hooks stay in the parent
        os.write(done_w, str(burned).encode())
    os._exit(0)
os.close(done_w)
os.wait()
print("BURNED", os.read(done_r, 64).decode(), "s of CPU in a daemon's short-lived children")

# then the reference solution, filled in by the test
__REFERENCE__
