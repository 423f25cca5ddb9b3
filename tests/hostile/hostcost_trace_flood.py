# Past the harness's caps: reaches the trace recorder through gc and writes __EVENTS__ validly keyed, correctly
# numbered events straight to its pipe (the recorder's MAX_EVENTS never sees them), then lets the harness
# carry on numbering after them. The honest harness never sends that many; the host must not judge this.
import gc
import os

rec = next(o for o in gc.get_objects() if type(o).__name__ == "Recorder" and hasattr(o, "emit"))
rec.flush()
first = rec.seq + 1
for start in range(first, first + __EVENTS__, 10_000):
    lines = "".join('{"e":"phase","i":%d,"k":"%s","t":0,"name":"x","seconds":0}\n' % (i, rec.key)
                    for i in range(start, min(start + 10_000, first + __EVENTS__)))
    data = lines.encode()
    while data:
        data = data[os.write(rec.fd, data):]
rec.seq = first + __EVENTS__ - 1
print("wrote", __EVENTS__, "events")
