#!/usr/bin/env python3
# SPDX-License-Identifier: AGPL-3.0-or-later
"""Redis memory per connected device in cluster mode (docs/scaling.md).

Starts its own redis-server on a free 127.0.0.1 port (no persistence), writes N presence keys and
holds N sharded subscriptions named the way lib/redis/keys.h names them, and prints the growth of
`used_memory` per key and per subscription. Stops the server by its PID.
    python3 bench/redis_memory.py [N]
"""
import os
import select
import socket
import subprocess
import sys
import tempfile
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def command(*args):
    out = b"*%d\r\n" % len(args)
    for arg in args:
        arg = arg if isinstance(arg, bytes) else str(arg).encode()
        out += b"$%d\r\n%s\r\n" % (len(arg), arg)
    return out


def drain(sock, seconds):
    """Reads every reply the server sends until it has been quiet for `seconds`."""
    while True:
        ready, _, _ = select.select([sock], [], [], seconds)
        if not ready or not sock.recv(1 << 22):
            return


def used_memory(sock):
    sock.sendall(command("INFO", "memory"))
    reply = b""
    while b"used_memory:" not in reply or not reply.endswith(b"\r\n"):
        reply += sock.recv(1 << 16)
    for line in reply.decode().split("\r\n"):
        if line.startswith("used_memory:"):
            return int(line.split(":")[1])
    raise RuntimeError("no used_memory in INFO")


def send_all(sock, commands):
    batch = b""
    for item in commands:
        batch += item
        if len(batch) > 1 << 20:
            sock.sendall(batch)
            batch = b""
    sock.sendall(batch)


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100000
    port = free_port()
    workdir = tempfile.mkdtemp(prefix="parley-redis-memory-")
    server = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", workdir],
        stdout=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                control = socket.create_connection(("127.0.0.1", port))
                break
            except OSError:
                time.sleep(0.05)
        else:
            raise RuntimeError("redis-server did not start")
        before = used_memory(control)
        # Presence: one key per connected device, naming the node that serves it, with a TTL the
        # node refreshes (a node that dies lets its devices' keys expire).
        writer = socket.create_connection(("127.0.0.1", port))
        send_all(writer, (command("SET", "p:{%s.1}" % os.urandom(32).hex(), "node-07:%d" % i,
                                  "PX", 90000) for i in range(n)))
        drain(writer, 1.0)
        with_keys = used_memory(control)
        # Wake-ups: one sharded subscription per connected device, all on one node's connection.
        subscriber = socket.create_connection(("127.0.0.1", port))
        send_all(subscriber, (command("SSUBSCRIBE", "w:{%s.1}" % os.urandom(32).hex())
                              for _ in range(n)))
        drain(subscriber, 1.0)
        with_subscriptions = used_memory(control)
        print("devices: %d" % n)
        print("presence key: %.0f bytes each" % ((with_keys - before) / n))
        print("subscription: %.0f bytes each" % ((with_subscriptions - with_keys) / n))
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
