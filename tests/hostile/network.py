# Tries to reach an outside address and a port the test opened on the host's loopback.
import socket

for name, addr in (("outside", ("1.1.1.1", 80)), ("outside-dns", ("pypi.org", 443)), ("host-loopback", ("127.0.0.1", __PORT__))):
    try:
        socket.create_connection(addr, timeout=3).close()
        print(f"CONNECTED {name}")
    except OSError as exc:
        print(f"blocked {name}: {exc}")
