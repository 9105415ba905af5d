#if os(Linux)
/// The connection storm of `ConnectionLimitTests.storm`, as a Python script (Python opens the sockets so
/// that the test process keeps its own descriptors). Arguments: port, connections, batch size, and the
/// number of connections the server is expected to close by itself (those over its limit), and a folder
/// for the hand-over with the test: with the connections held, the script creates `holding` there and
/// waits (at most 10 s) for `release`, so that the test can use the server in the middle of the storm.
///
/// It raises its own descriptor limit to what it needs (up to the hard limit), opens the connections in
/// batches (each connect bounded to 2 s), keeps them open, waits (at most 5 s) until the server has closed
/// the expected number, closes them all, then times `GET /health` (1 s allowed) and reads `/metrics`.
/// Prints one JSON line.
let connectionStormScript = #"""
import json, resource, select, socket, sys, time

import os
port, total, batch, expect_closed = (int(a) for a in sys.argv[1:5])
handover = sys.argv[5]
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
want = total + 256
if hard != resource.RLIM_INFINITY:
    want = min(want, hard)
if soft < want:
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))

report = {"connected": 0, "failed": 0, "closed_by_server": 0}
socks = {}
started = time.monotonic()
for first in range(0, total, batch):
    poller = select.poll()
    pending = {}
    for _ in range(first, min(total, first + batch)):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        try:
            s.connect(("127.0.0.1", port))
        except BlockingIOError:
            pass
        except OSError:
            report["failed"] += 1
            s.close()
            continue
        pending[s.fileno()] = s
        poller.register(s, select.POLLOUT)
    deadline = time.monotonic() + 2
    while pending and time.monotonic() < deadline:
        for fd, _ in poller.poll(100):
            s = pending.pop(fd, None)
            if s is None:
                continue
            poller.unregister(fd)
            if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
                report["failed"] += 1
                s.close()
            else:
                socks[fd] = s
    for s in pending.values():
        report["failed"] += 1
        s.close()
    # A breath between batches: a burst beyond the listen backlog (256) costs the client a 1 s SYN retry.
    time.sleep(0.05)
report["connected"] = len(socks)
report["connect_seconds"] = round(time.monotonic() - started, 3)

# Connections the server closed: readable with end of file (or reset).
closed = set()
poller = select.poll()
for fd in socks:
    poller.register(fd, select.POLLIN | select.POLLHUP | select.POLLERR)
deadline = time.monotonic() + 5
while len(closed) < expect_closed and time.monotonic() < deadline:
    for fd, _ in poller.poll(100):
        if fd in closed:
            continue
        try:
            data = socks[fd].recv(4096)
        except (ConnectionResetError, OSError):
            data = b""
        if not data:
            closed.add(fd)
            poller.unregister(fd)
report["closed_by_server"] = len(closed)
report["storm_seconds"] = round(time.monotonic() - started, 3)
report["held_during_handover"] = len(socks) - len(closed)
open(os.path.join(handover, "holding"), "w").close()
deadline = time.monotonic() + 10
while not os.path.exists(os.path.join(handover, "release")) and time.monotonic() < deadline:
    time.sleep(0.01)
report["released"] = os.path.exists(os.path.join(handover, "release"))
for s in socks.values():
    s.close()
socks.clear()

def get(path, timeout):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.settimeout(timeout)
        s.sendall(("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n" % path).encode())
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return data.decode("utf-8", "replace")
            data += chunk
    finally:
        s.close()

closed_at = time.monotonic()
report["health_status"] = None
while time.monotonic() - closed_at < 1.0:
    try:
        answer = get("/health", max(0.05, 1.0 - (time.monotonic() - closed_at)))
        report["health_status"] = answer.split("\r\n", 1)[0]
        if " 200 " in report["health_status"]:
            break
    except OSError as error:
        report["health_error"] = str(error)
        time.sleep(0.02)
report["health_seconds"] = round(time.monotonic() - closed_at, 3)
try:
    metrics = get("/metrics", 5)
    report["refused"] = [line for line in metrics.splitlines() if line.startswith("marksync_connections_refused_total{")]
except OSError as error:
    report["metrics_error"] = str(error)
print(json.dumps(report), flush=True)
"""#
#endif
