# Tries to write outside its working directory: the host's home, a host folder, its inputs, the grader.
import os, pathlib, sys

targets = [os.path.expanduser("~/__TOKEN__-home"), "__HOST_FILE__", "/root/__TOKEN__-root", sys.argv[0] + ".evil",
           os.path.join(os.path.dirname(os.__file__), "__TOKEN__-stdlib"), "/sandbox/in/__TOKEN__"]
for target in targets:
    try:
        pathlib.Path(target).write_text("pwned")
        print(f"WROTE {target} (exists inside the sandbox: {os.path.exists(target)})")
    except OSError as exc:
        print(f"refused {target}: {exc.strerror}")
