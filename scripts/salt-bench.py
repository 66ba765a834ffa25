#!/usr/bin/env python3
"""Measures Salt's `test.ping` against a running salt-master and its minions.

Run by scripts/salt-bench.sh, with the python of the Salt venv, once the master is up and the
minions have been started; the shell script owns every process and the temporary directory.

    python salt-bench.py --master-config DIR/master --minions id1,id2,... [--seconds 10]
        [--concurrency 1,2,4,8] [--ready-timeout 180] [--job-timeout 30] [--pgids 1,2,...]
        [--output FILE]

1. Waits (polling, with a deadline) until one `test.ping` to '*' is answered by every minion.
2. For each concurrency K (jobs in flight), for --seconds: publishes `test.ping` to '*' through
   LocalClient.run_job (listen=True) and reads the returns from the master's event bus (the
   same events that LocalClient.cmd_iter reads), keeping K jobs in flight; a job is complete
   when every minion has returned. returns/s = returns received / elapsed, where elapsed runs
   from the first publish to the completion of the last job (jobs in flight at the deadline are
   waited for and counted).
   Also measures LocalClient.cmd_iter sequentially (Salt's stock client loop) the same way.
3. Job latency (publish -> all returns) and per-return latency (publish -> that return) come from
   the K=1 run, where one job is alone in flight.

Prints exactly one line of JSON to stdout (or --output FILE); everything else goes to stderr.
"""
import argparse
import json
import math
import os
import statistics
import sys
import time


def log(msg):
    print(f"salt-bench.py: {msg}", file=sys.stderr, flush=True)


class BenchError(Exception):
    pass


def percentile(values, pct):
    """Nearest-rank percentile (no interpolation) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100.0 * len(ordered)))
    return ordered[rank - 1]


def wait_ready(client, expected, ready_timeout):
    """Pings '*' until one job is answered by every expected minion, or the deadline passes.

    Each poll is one test.ping job (run_job + the event bus), waited for at most 5 s and never
    past the deadline; minions not yet accepted or connected simply do not answer it."""
    deadline = time.monotonic() + ready_timeout
    started = time.monotonic()
    answered = set()
    reported = None
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            missing = sorted(expected - answered)
            raise BenchError(
                f"after {ready_timeout:.0f}s, {len(missing)} of {len(expected)} minions had not "
                f"answered test.ping: {', '.join(missing)}"
            )
        poll_end = time.monotonic() + min(5.0, remaining)
        answered = set()
        jid = None
        try:
            pub = client.run_job("*", "test.ping", timeout=max(1, int(remaining)), listen=True)
            jid = (pub or {}).get("jid")
            while jid and not expected <= answered and time.monotonic() < poll_end:
                raw = client.event.get_event(wait=max(0.01, poll_end - time.monotonic()),
                                             tag=f"salt/job/{jid}/ret/", full=True)
                if raw and raw.get("data", {}).get("return") is True:
                    answered.add(raw["tag"].split("/", 4)[4])
        except Exception as exc:  # master busy authenticating minions, ...
            log(f"test.ping not answered yet: {type(exc).__name__}: {exc}")
        finally:
            if jid:
                client.event.unsubscribe(f"salt/job/{jid}")
        if expected <= answered:
            log(f"all {len(expected)} minions answer test.ping "
                f"({time.monotonic() - started:.1f}s after the first poll)")
            return
        if len(answered) != reported:
            reported = len(answered)
            log(f"{len(answered)}/{len(expected)} minions answer test.ping")
        # Poll again shortly (bounded by the deadline checked above).
        time.sleep(min(0.5, max(0.0, deadline - time.monotonic())))


def run_event_loop(client, expected, seconds, concurrency, job_timeout):
    """K jobs in flight through run_job + the master event bus; see the module docstring."""
    event = client.event
    inflight = {}  # jid -> (t0, pending minions)
    res = {"returns": 0, "jobs": 0, "incomplete_jobs": 0, "job_latencies": [],
           "return_latencies": []}

    def publish():
        t0 = time.perf_counter()
        pub = client.run_job("*", "test.ping", timeout=job_timeout, listen=True)
        if not pub or not pub.get("jid"):
            raise BenchError(f"publishing test.ping failed: {pub!r}")
        minions = set(pub.get("minions") or [])
        if minions != expected:
            raise BenchError(f"master targeted {sorted(minions)}, expected {sorted(expected)}")
        inflight[pub["jid"]] = (t0, set(minions))
        res["jobs"] += 1

    def finish(jid):
        del inflight[jid]
        event.unsubscribe(f"salt/job/{jid}")

    start = time.perf_counter()
    stop_at = start + seconds
    for _ in range(concurrency):
        publish()
    end = start
    while inflight:
        now = time.perf_counter()
        for jid, (t0, pending) in list(inflight.items()):
            if now - t0 > job_timeout:
                log(f"job {jid} timed out after {job_timeout}s; no return from "
                    f"{', '.join(sorted(pending))}")
                res["incomplete_jobs"] += 1
                finish(jid)
                end = now
                if now < stop_at:
                    publish()
        if not inflight:
            break
        raw = event.get_event(wait=0.2, tag="salt/job/", full=True)
        if not raw:
            continue
        now = time.perf_counter()
        parts = raw.get("tag", "").split("/")
        # salt/job/<jid>/ret/<minion id>
        if len(parts) < 5 or parts[3] != "ret":
            continue
        jid, minion = parts[2], "/".join(parts[4:])
        job = inflight.get(jid)
        if job is None or minion not in job[1]:
            continue
        if raw.get("data", {}).get("return") is not True:
            raise BenchError(f"{minion} answered test.ping of job {jid} with "
                             f"{raw.get('data', {}).get('return')!r}")
        t0, pending = job
        pending.discard(minion)
        res["returns"] += 1
        res["return_latencies"].append(now - t0)
        if not pending:
            res["job_latencies"].append(now - t0)
            finish(jid)
            end = now
            if now < stop_at:
                publish()
    res["elapsed"] = end - start
    return res


def run_cmd_iter(client, expected, seconds, job_timeout):
    """Sequential jobs through LocalClient.cmd_iter, Salt's stock client loop."""
    res = {"returns": 0, "jobs": 0, "incomplete_jobs": 0, "job_latencies": [],
           "return_latencies": []}
    start = time.perf_counter()
    stop_at = start + seconds
    end = start
    while time.perf_counter() < stop_at:
        t0 = time.perf_counter()
        got = set()
        for ret in client.cmd_iter("*", "test.ping", timeout=job_timeout):
            now = time.perf_counter()
            for minion, data in (ret or {}).items():
                if minion in expected and minion not in got and \
                        isinstance(data, dict) and data.get("ret") is True:
                    got.add(minion)
                    res["returns"] += 1
                    res["return_latencies"].append(now - t0)
        end = time.perf_counter()
        res["jobs"] += 1
        if got == expected:
            res["job_latencies"].append(end - t0)
        else:
            res["incomplete_jobs"] += 1
            log(f"cmd_iter job missed {', '.join(sorted(expected - got))}")
    res["elapsed"] = end - start
    return res


def memory_mib(pgids):
    """(PSS MiB, RSS MiB, process count) of every live process in the given process groups.

    PSS shares each shared page among the processes mapping it, so it adds up; RSS counts
    shared pages (the Python interpreter, Salt's modules after fork) once per process."""
    pss_kib = rss_kib = count = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            if fields[0] == "Z" or int(fields[2]) not in pgids:
                continue
            with open(f"/proc/{entry}/status") as f:
                rss = next((int(l.split()[1]) for l in f if l.startswith("VmRSS:")), 0)
            try:
                with open(f"/proc/{entry}/smaps_rollup") as f:
                    pss = next((int(l.split()[1]) for l in f if l.startswith("Pss:")), rss)
            except OSError:
                pss = rss
        except (OSError, IndexError, ValueError):
            continue
        pss_kib += pss
        rss_kib += rss
        count += 1
    return round(pss_kib / 1024.0, 1), round(rss_kib / 1024.0, 1), count


def summarize(name, res):
    rps = res["returns"] / res["elapsed"] if res["elapsed"] > 0 else 0.0
    out = {"mode": name, "returns": res["returns"], "jobs": res["jobs"],
           "incomplete_jobs": res["incomplete_jobs"], "elapsed_s": round(res["elapsed"], 3),
           "returns_per_second": round(rps, 2)}
    out["latency_samples"] = len(res["job_latencies"])
    if res["job_latencies"]:
        out["job_latency_median_s"] = round(statistics.median(res["job_latencies"]), 4)
        out["job_latency_p99_s"] = round(percentile(res["job_latencies"], 99), 4)
    if res["return_latencies"]:
        out["return_latency_median_s"] = round(statistics.median(res["return_latencies"]), 4)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--master-config", required=True, help="path of the master's config file")
    ap.add_argument("--minions", required=True, help="comma-separated minion ids")
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--concurrency", default="1,2,4,8", help="comma-separated jobs in flight")
    ap.add_argument("--ready-timeout", type=float, default=180.0)
    ap.add_argument("--job-timeout", type=int, default=30)
    ap.add_argument("--warmup-jobs", type=int, default=5)
    ap.add_argument("--pgids", default="",
                    help="comma-separated process groups (master, minions) whose memory is reported")
    ap.add_argument("--output", help="write the JSON line to this file instead of stdout")
    ap.add_argument("--loadavg-before", type=float,
                    help="1-minute load average before Salt started, for the report")
    ap.add_argument("--minion-multiprocessing", default="true",
                    help="the minions' `multiprocessing` setting, for the report")
    args = ap.parse_args()

    expected = {m for m in args.minions.split(",") if m}
    levels = sorted({int(k) for k in args.concurrency.split(",") if k.strip()})
    if not expected or not levels or levels[0] < 1:
        raise BenchError("need at least one minion and concurrency levels >= 1")
    if 1 not in levels:
        levels.insert(0, 1)  # the latency figures come from K=1

    import salt.client
    import salt.version

    client = salt.client.LocalClient(c_path=args.master_config)
    wait_ready(client, expected, args.ready_timeout)

    log(f"warming up with {args.warmup_jobs} jobs")
    for _ in range(args.warmup_jobs):
        # seconds=0: one job, nothing published after it
        if run_event_loop(client, expected, 0.0, 1, args.job_timeout)["incomplete_jobs"]:
            raise BenchError("a warm-up job did not get every minion's return")

    modes = []
    for k in levels:
        log(f"event loop, {k} job(s) in flight, {args.seconds:g}s")
        res = run_event_loop(client, expected, args.seconds, k, args.job_timeout)
        modes.append(summarize(f"run_job+event_bus, {k} job(s) in flight", res))
        modes[-1]["concurrency"] = k
        log(json.dumps(modes[-1]))
    log(f"cmd_iter, sequential, {args.seconds:g}s")
    res = run_cmd_iter(client, expected, args.seconds, args.job_timeout)
    modes.append(summarize("cmd_iter, sequential", res))
    modes[-1]["concurrency"] = 1
    log(json.dumps(modes[-1]))

    pgids = {int(p) for p in args.pgids.split(",") if p.strip()}
    pss, rss, procs = memory_mib(pgids) if pgids else (None, None, None)

    incomplete = sum(m["incomplete_jobs"] for m in modes)
    if incomplete:
        raise BenchError(f"{incomplete} job(s) did not get every minion's return in "
                         f"{args.job_timeout}s")

    best = max(modes, key=lambda m: m["returns_per_second"])
    latency = modes[0]  # K=1 through the event loop: one job alone in flight
    result = {
        "tool": "salt",
        "version": salt.version.__version__,
        "python": ".".join(map(str, sys.version_info[:3])),
        "minions": len(expected),
        "seconds": args.seconds,
        "returns": best["returns"],
        "returns_per_second": best["returns_per_second"],
        "job_latency_median_s": latency.get("job_latency_median_s"),
        "job_latency_p99_s": latency.get("job_latency_p99_s"),
        "return_latency_median_s": latency.get("return_latency_median_s"),
        "latency_samples": latency["latency_samples"],
        "mode": best["mode"],
        "minion_multiprocessing": args.minion_multiprocessing == "true",
        "latency_mode": latency["mode"],
        "cpus": os.cpu_count(),
        "loadavg_before": args.loadavg_before,
        "memory_pss_mib": pss,
        "memory_rss_mib": rss,
        "processes": procs,
        "modes": modes,
    }
    line = json.dumps(result, separators=(",", ":"))
    if args.output:
        with open(args.output, "w") as f:
            f.write(line + "\n")
    else:
        print(line, flush=True)


if __name__ == "__main__":
    try:
        main()
    except BenchError as exc:
        log(f"FAILED: {exc}")
        code = 1
    except KeyboardInterrupt:
        log("interrupted")
        code = 130
    except Exception:  # Salt's client errors (master unreachable, auth, ...)
        import traceback
        traceback.print_exc()
        log("FAILED: unexpected error")
        code = 1
    else:
        code = 0
    sys.stdout.flush()
    sys.stderr.flush()
    # Skip the interpreter's teardown: there, Salt's client only logs a stray "Request timed out
    # while waiting for a response. reconnecting." from a leftover request coroutine (the
    # readiness polls' publishes are retried while the master is busy authenticating minions).
    os._exit(code)
