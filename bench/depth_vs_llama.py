#!/usr/bin/env python3
"""gemma-run vs llama.cpp at context depth, same GGUF, same threads, same KV cache type.

For each depth: decode speed (tg, single-token steps) with the context at that depth, from
`gemma-bench -d DEPTH` and bench/llama_depth.mjs, run alternately so both see the same machine
load. The depth is filled with random K/V (--fill random, default; both engines, see
gemma-bench --depth-fill and llama_state.py) or by real prefill (--fill prefill). Printed:
tokens/s, the ratio gemma-run / llama.cpp, and the marginal cost of the depth in ms per token
(decode time at depth minus at the first depth, which isolates attention from the matmuls).
Then prefill: one batch of --prompt tokens and of 512 tokens at depth 0 (real prefill); the
excess of the long prompt over prompt/512 short ones is the quadratic (attention) part.

usage: bench/depth_vs_llama.py --model M.gguf [--threads 1] [--depths 0,4096,32768,131072]
         [--tg 32] [--reps 3] [--prompt 16384] [--cache-type f16] [--fill random|prefill]
         [--build build-test] [--cpu-time] [--out results.json]

--cpu-time compares the process CPU time of each engine (one thread) instead of the wall clock:
on a machine shared with other work, wall-clock speeds mostly measure the scheduler.
"""
import argparse
import json
import os
import subprocess
import sys
import time

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(here)


def load_avg():
    return float(open("/proc/loadavg").read().split()[0])


def run(cmd):
    print("$ " + " ".join(cmd), file=sys.stderr, flush=True)
    t0 = time.time()
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return out, time.time() - t0


def ours(a, depth, pp, tg):
    cmd = [os.path.join(root, a.build, "cli", "gemma-bench"), "-m", a.model, "-t", str(a.threads),
           "-r", str(a.reps), "-p", str(pp), "-n", str(tg), "-d", str(depth), "-o", "json",
           "--cache-type", a.cache_type, "--depth-fill", a.fill] + (["--cpu-time"] if a.cpu_time else [])
    out, _ = run(cmd)
    res = {}
    for r in json.loads(out):
        key = "pp" if r["test"].startswith("pp") else "tg"
        s = sorted(r["samples_ts"])
        res[key] = s[len(s) // 2]
    return res


def llama(a, depth, pp, tg):
    out_file = os.path.join(a.work, "llama.json")
    cmd = ["node", os.path.join(here, "llama_depth.mjs"), "--model", a.model, "--depth", str(depth),
           "--fill", a.fill, "--pp", str(pp), "--tg", str(tg), "--reps", str(a.reps),
           "--threads", str(a.threads), "--kv-type", a.cache_type.upper(), "--work", a.work,
           "--out", out_file]
    run(cmd)
    r = json.load(open(out_file))
    res = {}
    key = "cpu" if a.cpu_time else "internal"
    if r["pp_tps"]:
        res["pp"] = r["pp_tps"][key]
    if r["tg_tps"]:
        res["tg"] = r["tg_tps"][key]
    res["settings"] = r["settings"]
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--depths", default="0,4096,32768,131072")
    ap.add_argument("--tg", type=int, default=32)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--prompt", type=int, default=16384)
    ap.add_argument("--cache-type", default="f16")
    ap.add_argument("--fill", default="random")
    ap.add_argument("--cpu-time", action="store_true",
                    help="compare process CPU time instead of wall time (use with --threads 1 on a busy machine)")
    ap.add_argument("--build", default="build-test")
    ap.add_argument("--work", default=os.path.join(root, ".cache", "llama-depth"))
    ap.add_argument("--out")
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    depths = [int(d) for d in a.depths.split(",") if d]
    results = {"model": a.model, "threads": a.threads, "cache_type": a.cache_type, "fill": a.fill,
               "timing": "cpu" if a.cpu_time else "wall",
               "decode": [], "prefill": None}

    print("| depth | gemma-run tg t/s | llama.cpp tg t/s | ratio | gemma-run ms/token over first depth "
          "| llama.cpp ms/token over first depth | load avg |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    base = None
    for d in depths:
        load = load_avg()
        o = ours(a, d, 0, a.tg)["tg"]
        l = llama(a, d, 0, a.tg)["tg"]
        if base is None:
            base = (o, l)
        mo = 1000 / o - 1000 / base[0]
        ml = 1000 / l - 1000 / base[1]
        results["decode"].append({"depth": d, "gemma_tg": o, "llama_tg": l, "gemma_marginal_ms": mo,
                                  "llama_marginal_ms": ml, "load_avg": load})
        print("| %d | %.2f | %.2f | %.2f | %.2f | %.2f | %.1f |" % (d, o, l, o / l, mo, ml, load), flush=True)

    if a.prompt > 0:
        load = load_avg()
        o_long = ours(a, 0, a.prompt, 0)["pp"]
        l_long = llama(a, 0, a.prompt, 0)["pp"]
        o_short = ours(a, 0, 512, 0)["pp"]
        l_short = llama(a, 0, 512, 0)["pp"]
        # seconds of the long prompt beyond prompt/512 short ones: the attention-driven excess
        n = a.prompt
        o_excess = n / o_long - (n / 512) * (512 / o_short)
        l_excess = n / l_long - (n / 512) * (512 / l_short)
        results["prefill"] = {"prompt": n, "gemma_pp": o_long, "llama_pp": l_long, "gemma_pp512": o_short,
                              "llama_pp512": l_short, "gemma_excess_s": o_excess, "llama_excess_s": l_excess,
                              "load_avg": load}
        print()
        print("| prefill | gemma-run t/s | llama.cpp t/s | ratio | gemma-run s beyond 32 x pp512 "
              "| llama.cpp s beyond | load avg |")
        print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
        print("| pp%d | %.2f | %.2f | %.2f | %.2f | %.2f | %.1f |" % (n, o_long, l_long, o_long / l_long, o_excess,
                                                                   l_excess, load))
        print("| pp512 | %.2f | %.2f | %.2f | | | |" % (o_short, l_short, o_short / l_short))
    if a.out:
        json.dump(results, open(a.out, "w"), indent=1)


main()
