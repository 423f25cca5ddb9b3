# Costs the host, not the sandbox: reaches the harness's trace recorder through gc (it runs in this
# interpreter) and writes a forged trace of __EPOCHS__ one-batch epochs, each with a printed "loss" line.
# Small in bytes (~100 per event), but a host that rescans the trace once per epoch does
# epochs x events work: tens of billions of steps while every later student waits.
import gc

rec = next(o for o in gc.get_objects() if type(o).__name__ == "Recorder" and hasattr(o, "emit"))
rec.emit("dataset", ds=999, train=True, size=1)
for k in range(__EPOCHS__):
    rec.emit("loss", loss=10**6 + k, kind="cross_entropy", value=0.5, bs=1, grad=True,
             reduction="mean")
    rec.emit("backward", losses=[10**6 + k], kinds=["cross_entropy"], value=0.5, bs=1,
             cleared=True)
    rec.emit("line", s="o", text=f"epoch {k} loss 0.5000", end="\n")
rec.flush()
print("forged", __EPOCHS__, "epochs")
