"""The stream out of the sandbox (harness/protocol.py, supervisor.TraceReader): binary parts travel beside the
JSON intact, whatever pieces the pipe cuts them into; a forged declaration swallows nothing; a signed record
lost or altered on the way is noticed, and the report says the trace cannot be judged."""

import json
import os

import pytest

from grader.harness import protocol
from grader.harness.recorder import Recorder
from grader.harness.supervisor import TraceReader
from grader.trace import Trace

KEY = b"k" * 32
BLOB = bytes(range(256)) * 40 + b"\n\t\n"  # newlines and tabs: binary parts are not lines


def _stream(*records) -> bytes:
    return b"".join(protocol.encode(rec, KEY, payload) for rec, payload in records)


@pytest.mark.parametrize("text", [False, True], ids=["raw", "base64"])  # base64: Docker's stdout is text
def test_bytes_fields_come_back_where_they_were(text):
    event = {"e": "artifact", "i": 1, "name": "model.bin", "data": BLOB}
    header, payload = protocol.pack(event)
    stream = protocol.encode({"ch": protocol.TRACE, "ev": header}, KEY, payload, text=text) + \
        protocol.encode({"ch": protocol.SUP, "exit": 0}, KEY)
    assert (BLOB in stream) != text
    trace = Trace.from_stream(stream, KEY)
    assert trace.artifact == BLOB and trace.forged == 0 and trace.over_cap is None


def test_a_request_file_holds_each_records_bytes():
    records = [{"i": 1, "program": b"tape\n", "tensors": BLOB, "why": None}, {"i": 2, "program": None, "why": "x"}]
    request = {"work": [{"record": r, "sole": True} for r in records], "count_parameters": False}
    assert protocol.read_request_file(protocol.request_file(request)) == request
    with pytest.raises(ValueError):
        protocol.read_request_file(protocol.request_file(request) + b"more")


@pytest.mark.parametrize("piece", [1, 7, 4096, 1 << 20])
def test_the_supervisor_reassembles_an_events_bytes_from_any_pieces(piece):
    got = []
    reader = TraceReader("key", lambda record, payload=b"": got.append((record["ev"], payload)))
    r, w = os.pipe()
    rec = Recorder(w, "key", batch=False)
    rec.emit("note", text="before")
    rec.emit("artifact", name="model.bin", data=BLOB)
    rec.emit("note", text="after")
    os.close(w)
    data = os.read(r, 1 << 20)
    os.close(r)
    for at in range(0, len(data), piece):
        reader.feed(data[at : at + piece])
    assert [e["e"] for e, _ in got] == ["note", "artifact", "note"] and reader.rejected == 0
    assert got[1][0]["bin"] == {"data": len(BLOB)} and got[1][1] == BLOB


def test_an_event_with_a_malformed_list_of_parts_is_rejected_and_its_bytes_are_not_believed():
    got = []
    reader = TraceReader("key", lambda record, payload=b"": got.append(record))
    bad = json.dumps({"e": "artifact", "i": 1, "k": "key", "bin": {"data": -5}}).encode()
    reader.feed(bad + b"\n" + json.dumps({"e": "note", "i": 1, "k": "key", "text": "x"}).encode() + b"\n")
    assert reader.rejected == 1 and [r["ev"]["e"] for r in got] == ["note"]


def test_a_forged_declaration_swallows_none_of_the_signed_lines_after_it():
    genuine = _stream(({"ch": protocol.OUT, "s": "o", "d": "hello"}, b""), ({"ch": protocol.SUP, "exit": 0}, b""))
    forged = json.dumps({"ch": protocol.TRACE, "bytes": len(genuine) - 1}).encode() + b"\t" + b"0" * 64 + b"\n"
    records, rejected, _ = protocol.decode_stream(forged + genuine, KEY)
    assert [r["ch"] for r in records] == [protocol.OUT, protocol.SUP] and rejected == 1


def test_a_signed_record_altered_on_the_way_leaves_a_trace_that_is_not_judged():
    # a process that shares the sandbox's stdout (Docker's init holds it) writes into the middle of a record
    header, payload = protocol.pack({"e": "artifact", "i": 1, "name": "model.bin", "data": BLOB})
    record = protocol.encode({"ch": protocol.TRACE, "ev": header}, KEY, payload)
    final = protocol.encode({"ch": protocol.SUP, "exit": 0, "stream_bytes": len(record)}, KEY)
    assert Trace.from_stream(record + final, KEY).over_cap is None
    cut = len(record) // 2
    altered = record[:cut] + b"forged\n" + record[cut:]
    trace = Trace.from_stream(altered + final, KEY)
    assert trace.artifact is None and "signed records" in trace.over_cap


def test_a_steps_tensors_cross_as_plain_bytes_and_anything_else_is_refused():
    import torch

    from grader.harness import tensorfile

    tensors = {"input": torch.randn(4, 1, 28, 28), "before": [torch.randn(3, 2), None, torch.ones(2, dtype=torch.bool)],
               "state": [torch.tensor(2.0, dtype=torch.bfloat16)]}
    back = tensorfile.loads(tensorfile.dumps(tensors))
    assert torch.equal(back["input"], tensors["input"]) and back["before"][1] is None
    assert back["before"][2].dtype == torch.bool and back["state"][0].dtype == torch.bfloat16
    blob = tensorfile.dumps(tensors)
    head = b'{"x": {"dtype": "object", "shape": [1]}}'
    for bad in (blob[:-1], blob + b"\0", len(head).to_bytes(8, "big") + head + b"\0" * 8):
        with pytest.raises(ValueError):
            tensorfile.loads(bad)
