#!/usr/bin/env python3
# SPDX-License-Identifier: AGPL-3.0-or-later
"""Writes bench/RESULTS.md (to stdout) from one bench/run.sh run: the parley-load JSON lines of
every target and scenario, and the micro-benchmarks' output. Ratios are Parley over each peer,
from numbers measured in the same run on the same machine."""

import argparse
import datetime
import json
import os
import platform
import subprocess


def sh(command):
    try:
        return subprocess.run(command, shell=True, capture_output=True, text=True,
                              timeout=20).stdout.strip()
    except Exception:  # a missing tool only leaves a fact out of the header
        return ""


def machine():
    model = ""
    with open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as meminfo:
        mem_kib = int(meminfo.readline().split()[1])
    return (f"{model}, {os.cpu_count()} cores, {mem_kib / 1048576:.0f} GiB RAM, "
            f"Linux {platform.release()}, {sh('. /etc/os-release; echo $PRETTY_NAME')}")


def versions():
    pkgs = ["mosquitto", "ejabberd", "librocksdb7.8", "libssl3", "libboost1.74-dev"]
    query = "dpkg-query -W -f='${Version}' "
    parts = [p + " " + sh(query + p) for p in pkgs]
    return ", ".join(parts) + f"; Parley {sh('git rev-parse --short HEAD')}"


def ms(ns):
    return f"{ns / 1e6:.2f}"


def rate(value):
    return f"{value:,.0f}"


def ratio(ours, theirs, higher_is_better=True):
    if not ours or not theirs:
        return "—"
    return f"{(ours / theirs if higher_is_better else theirs / ours):.2f}×"


NAMES = {
    "parley": "Parley (parleyd, TLS 1.3 WebSocket, synced RocksDB)",
    "mqtt": "mosquitto (MQTT 3.1.1 QoS 1, persistent sessions, no TLS)",
    "xmpp": "ejabberd (XMPP, XEP-0198 acks, mod_offline, no TLS)",
}


def pick(rows, target, scenario, paced=None):
    found = [r for r in rows if r["target"] == target and r["scenario"] == scenario]
    if paced is not None:
        found = [r for r in found if ("--rate" in r.get("args", "")) == paced]
    return found[-1] if found else None


def server_cpu_per_1000(row):
    server = row.get("server")
    if not server or not row.get("delivered"):
        return None
    # CPU over the measured window; delivered messages in the same window.
    return server["cpu_seconds"] / row["delivered"] * 1000


def relay_table(rows, paced, out):
    out.append("| target | delivered msg/s | p50 ms | p90 ms | p99 ms | p99.9 ms | server CPU s "
               "per 1,000 msgs | errors | Parley's rate ÷ this |")
    out.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    parley = pick(rows, "parley", "relay", paced)
    for target in ("parley", "mqtt", "xmpp"):
        r = pick(rows, target, "relay", paced)
        if not r:
            out.append(f"| {target} | did not run | | | | | | | |")
            continue
        cpu = server_cpu_per_1000(r)
        lat = r["latency_ns"]
        out.append(
            f"| {target} | {rate(r['delivered_per_second'])} | {ms(lat['p50'])} | "
            f"{ms(lat['p90'])} | {ms(lat['p99'])} | {ms(lat['p999'])} | "
            f"{'—' if cpu is None else f'{cpu:.3f}'} | {r['errors']} | "
            f"{ratio(parley and parley['delivered_per_second'], r['delivered_per_second'])} |")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--results", required=True)
    parser.add_argument("--micro", required=True)
    parser.add_argument("--command", required=True)
    parser.add_argument("--sizes", required=True)
    args = parser.parse_args()
    with open(args.results) as f:
        rows = [json.loads(line) for line in f if line.strip()]
    with open(args.micro) as f:
        micro = f.read().strip()

    out = []
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    out += [
        "# Benchmark results",
        "",
        f"Written by `{args.command}` on {now}. Every number below comes from that one run: "
        "Parley and the peers were measured one after the other on the same machine with the "
        "same parley-load scenarios (same pairing, payload size, rate control and measured "
        "window). Regenerate with `bash bench/run.sh` (see bench/README.md).",
        "",
        f"- Machine: {machine()}",
        f"- Versions: {versions()}",
        f"- Sizes: {args.sizes}; payload 300 bytes",
        "- Load average when written: " + sh("cut -d' ' -f1-3 /proc/loadavg"),
        "",
        "## What is compared",
        "",
    ]
    for target, name in NAMES.items():
        out.append(f"- **{target}**: {name}")
    out += [
        "",
        "Parley acknowledges a message only after it is synced to disk (`fdatasync` of the "
        "RocksDB WAL, shared by concurrent writers); acks are synced too. mosquitto persists by "
        "periodic snapshot and ejabberd's mnesia by its own log dumps: neither syncs each message "
        "before acknowledging it (bench/peers/README.md). Parley also pays for TLS, which the "
        "peers run without. The comparison therefore favours the peers.",
        "",
        "## Relay: pairs of devices exchanging messages, flat out",
        "",
    ]
    relay_table(rows, False, out)
    paced = pick(rows, "parley", "relay", True)
    offered = paced["args"].split("--rate ")[1].split()[0] if paced else "?"
    out += ["", f"## Relay at the same offered rate ({offered} msg/s, half of Parley's maximum)", ""]
    relay_table(rows, True, out)

    out += ["", "## Group: one sender, fan-out to every member", "",
            "| target | members | group messages/s | deliveries/s | p50 ms | p99 ms | errors | "
            "Parley's deliveries ÷ this |", "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    parley = pick(rows, "parley", "group")
    for target in ("parley", "mqtt", "xmpp"):
        r = pick(rows, target, "group")
        if not r:
            out.append(f"| {target} | did not run | | | | | | |")
            continue
        members = r["args"].split("--group-size ")[1].split()[0]
        out.append(
            f"| {target} | {members} | {rate(r['sent'] / r['seconds'] if r['seconds'] else 0)} | "
            f"{rate(r['delivered_per_second'])} | {ms(r['latency_ns']['p50'])} | "
            f"{ms(r['latency_ns']['p99'])} | {r['errors']} | "
            f"{ratio(parley and parley['delivered_per_second'], r['delivered_per_second'])} |")

    out += ["", "## Offline: mailboxes filled while the recipients are away, then drained", "",
            "| target | messages | fill msg/s | drain msg/s | delivered | errors | "
            "Parley's drain ÷ this |", "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    parley = pick(rows, "parley", "offline")
    for target in ("parley", "mqtt", "xmpp"):
        r = pick(rows, target, "offline")
        if not r:
            out.append(f"| {target} | did not run | | | | | |")
            continue
        e = r.get("extra", {})
        out.append(
            f"| {target} | {r['sent']} | {rate(e.get('fill_messages_per_second', 0))} | "
            f"{rate(e.get('drain_messages_per_second', 0))} | {r['delivered']} | {r['errors']} | "
            f"{ratio(parley and parley['extra'].get('drain_messages_per_second'), e.get('drain_messages_per_second'))} |")

    out += ["", "## Idle: signed-in connections held open", "",
            "Server memory per connection is the server's RSS with the connections open minus its "
            "RSS before they connected (the devices signed up earlier, one connection at a time, "
            "so neither the store's growth nor memory kept from sign-ups is counted). Kernel "
            "memory is the change of the machine's slab (socket buffers and TCP state of both ends "
            "of every loopback connection, so an upper bound).", "",
            "The last column divides the server's whole RSS by the connections: an upper bound "
            "that also holds the accounts and everything else the server keeps. It matters for "
            "ejabberd: the Erlang VM keeps the memory it grew to while the 18,000 accounts "
            "registered, so its after-minus-before figure is a lower bound.", "",
            "| target | connections | server RSS per connection | kernel slab per connection | "
            "1M connections would need (RSS) | errors | whole server RSS ÷ connections |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for target in ("parley", "mqtt", "xmpp"):
        r = pick(rows, target, "idle")
        if not r:
            out.append(f"| {target} | did not run | | | | |")
            continue
        e = r.get("extra", {})
        per = e.get("server_rss_per_connection_bytes", 0)
        slab = e.get("kernel_slab_per_connection_bytes", 0)
        whole = r.get("server", {}).get("rss_after", 0) / max(r["connections"], 1)
        out.append(f"| {target} | {r['connections']:,} | {per / 1024:.1f} KiB | "
                   f"{slab / 1024:.1f} KiB | {per * 1e6 / 2**30:.1f} GiB | {r['errors']} | "
                   f"{whole / 1024:.1f} KiB |")

    relay = pick(rows, "parley", "relay", False)
    paced = pick(rows, "parley", "relay", True)
    idle = pick(rows, "parley", "idle")
    mqtt = pick(rows, "mqtt", "relay", False)
    xmpp = pick(rows, "xmpp", "relay", False)

    def status(ok):
        return "met" if ok else "**not met**"

    out += ["", "## Where Parley stands against its goals", "",
            "| goal | measured here | |", "| --- | --- | --- |"]
    if idle:
        per = idle["extra"].get("server_rss_per_connection_bytes", 0) / 1024
        out.append(f"| ≤ 12 KiB server RSS per idle connection | {per:.1f} KiB | {status(per <= 12)} |")
    if relay:
        r = relay["delivered_per_second"]
        out.append(f"| ≥ 100,000 durable 1:1 messages/s, one parleyd, 2 cores shared with the load "
                   f"generator | {rate(r)} | {status(r >= 100000)} |")
    if paced:
        p99 = paced["latency_ns"]["p99"] / 1e6
        out.append(f"| p99 ≤ 10 ms at half the maximum rate | {p99:.2f} ms | {status(p99 <= 10)} |")
    if relay and mqtt:
        q = relay["delivered_per_second"] / mqtt["delivered_per_second"]
        out.append(f"| ≥ 2× mosquitto QoS 1 (relay) | {q:.2f}× | {status(q >= 2)} |")
    if relay and xmpp:
        q = relay["delivered_per_second"] / xmpp["delivered_per_second"]
        out.append(f"| ≥ 2.5× ejabberd (relay) | {q:.2f}× | {status(q >= 2.5)} |")

    notes = [(r["target"], r["scenario"], n) for r in rows for n in r.get("notes", [])]
    if notes:
        out += ["", "## Notes the runs reported", ""]
        out += [f"- {n}" if n.startswith(f"{t} {s}") else f"- {t} {s}: {n}" for t, s, n in notes]

    out += ["", "## Micro-benchmarks (scripts/bench.sh, same run)", "", "```", micro, "```", ""]
    print("\n".join(out))


if __name__ == "__main__":
    main()
