# Costs the host in bytes: through the harness's trace recorder (reached via gc), thousands of distinct
# notes (the report shows notes as warnings), a huge exception message and source line, and printed
# lines far over the harness's 400-character cap. The report, the student page and the store all grow
# with them unless the host caps every free-text field.
import gc

rec = next(o for o in gc.get_objects() if type(o).__name__ == "Recorder" and hasattr(o, "emit"))
for k in range(__NOTES__):
    rec.emit("note", force=True, text=f"note {k}: " + "n" * 4000)
for k in range(200):
    rec.emit("line", force=True, s="o", text=f"line {k} " + "l" * 100_000, end="\n")
big = "x" * 8_000_000
rec.emit("exception", force=True, type="ValueError" + "V" * 100_000, message=big, lineno=1, line=big,
         frames=[{"file": "f" * 100_000, "lineno": 1, "name": "g" * 100_000}] * 50)
rec.emit("end", force=True, outcome="exception", exit_code=1, dropped=0, seconds=1.0)
rec.flush()
rec.emit = lambda *a, **k: None  # the harness's own exception/end events never reach the trace
raise SystemExit(0)
