# Costs the host in bytes: reaches the harness's trace recorder through gc and writes straight to its pipe
# (past the recorder's own caps on string fields): thousands of distinct notes (the report shows notes as
# warnings), a huge exception type, message and source line, and printed lines far over the harness's
# 400-character cap. The report, the student page and the store all grow with them unless the host caps
# every free-text field.
import gc
import json
import os

rec = next(o for o in gc.get_objects() if type(o).__name__ == "Recorder" and hasattr(o, "emit"))
rec.flush()


def forge(kind, **fields):
    rec.seq += 1
    data = (json.dumps({"e": kind, "i": rec.seq, "k": rec.key, "t": 0, **fields}) + "\n").encode()
    while data:
        data = data[os.write(rec.fd, data):]


for k in range(__NOTES__):
    forge("note", text=f"note {k}: " + "n" * 4000)
for k in range(200):
    forge("line", s="o", text=f"line {k} " + "l" * 100_000, end="\n")
big = "x" * 8_000_000
forge("exception", type="ValueError" + "V" * 100_000, message=big, lineno=1, line=big,
      frames=[{"file": "f" * 100_000, "lineno": 1, "name": "g" * 100_000}] * 50)
forge("end", outcome="exception", exit_code=1, dropped=0, seconds=1.0)
rec.emit = lambda *a, **k: None  # the harness's own exception/end events never reach the trace
raise SystemExit(0)
