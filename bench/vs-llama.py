#!/usr/bin/env python3
"""gemma-run vs llama.cpp: prefill and decode speed on the same GGUF files, same threads, one run.

For every model and thread count, gemma-bench and llama.cpp (../shared/tools/llama-ref/bench.mjs,
node-llama-cpp) run one after the other, so both see the same machine. Printed per test:
tokens/s of each (median over --reps), the ratio gemma-run / llama.cpp, and for decode the share
of the memory-bandwidth bound: (weight bytes one token reads) / (read bandwidth measured in the
same run by bench/kernel_bench) gives the fastest decode memory allows.

llama.cpp's figure is its own perf counters (llama_perf_context: t_p_eval / t_eval), which leave
out node-llama-cpp's JavaScript overhead: the stricter comparison for us. Both use an F16 KV cache.

usage: bench/vs-llama.py --models A.gguf,B.gguf [--threads 1,2] [--pp 512] [--tg 128]
                          [--reps 3] [--build build-test] [--out results.json]
"""
import argparse
import json
import os
import re
import struct
import subprocess
import sys

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(here)
llama_ref = os.environ.get("GEMMA_LLAMA_REF", os.path.join(root, "..", "shared", "tools", "llama-ref"))


def run(cmd):
    print("$ " + " ".join(cmd), file=sys.stderr, flush=True)
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout


# ---- bytes one decode step reads -------------------------------------------------------------

GGML_BLOCK = {  # type id: (elements per block, bytes per block)
    0: (1, 4), 1: (1, 2), 2: (32, 18), 8: (32, 34), 12: (256, 144), 13: (256, 176),
    14: (256, 210), 30: (1, 2),
}


def gguf_tensors(path):
    """(name, n_elements, n_bytes) for every tensor of a GGUF v2/v3 file."""
    with open(path, "rb") as f:
        def u32(): return struct.unpack("<I", f.read(4))[0]
        def u64(): return struct.unpack("<Q", f.read(8))[0]
        def string(): return f.read(u64()).decode("utf-8", "replace")
        scalar = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}

        def skip_value(t):
            if t in scalar:
                f.read(scalar[t])
            elif t == 8:
                string()
            elif t == 9:
                et, n = u32(), u64()
                if et in scalar:
                    f.read(scalar[et] * n)
                else:
                    for _ in range(n):
                        skip_value(et)
            else:
                raise ValueError(f"{path}: unknown GGUF value type {t}")

        if f.read(4) != b"GGUF":
            raise ValueError(f"{path}: not a GGUF file")
        u32()
        n_tensors, n_kv = u64(), u64()
        for _ in range(n_kv):
            string()
            skip_value(u32())
        out = []
        for _ in range(n_tensors):
            name = string()
            dims = [u64() for _ in range(u32())]
            t = u32()
            u64()  # offset
            n = 1
            for d in dims:
                n *= d
            per, size = GGML_BLOCK[t]
            out.append((name, n, n // per * size))
        return out


def decode_bytes(path):
    """Weight bytes a decode step reads: every matrix, except that the embedding tables are read
    one row per token (unless the LM head is tied to token_embd, which then is read whole)."""
    tensors = gguf_tensors(path)
    names = {name for name, _, _ in tensors}
    tied = "output.weight" not in names
    total = 0
    for name, n, size in tensors:
        if name == "per_layer_token_embd.weight" or (name == "token_embd.weight" and not tied):
            continue
        total += size
    return total


def bandwidth(build, threads):
    """Read bandwidth (GB/s) per thread count, from kernel_bench's first lines."""
    out = run([os.path.join(root, build, "bench", "kernel_bench"), "--types", "Q4_0",
               "--threads", ",".join(map(str, threads)), "--reps", "5", "--decode-mib", "16"])
    bw = {}
    for m in re.finditer(r"read bandwidth, (\d+) thread\(s\): ([\d.]+) GB/s", out):
        bw[int(m.group(1))] = float(m.group(2))
    return bw


# ---- the two engines ----------------------------------------------------------------------------

def ours(a, model, threads):
    out = run([os.path.join(root, a.build, "cli", "gemma-bench"), "-m", model, "-t", str(threads),
               "-r", str(a.reps), "-p", str(a.pp), "-n", str(a.tg), "-o", "json"])
    res = {}
    for r in json.loads(out):
        s = sorted(r["samples_ts"])
        res["pp" if r["test"].startswith("pp") else "tg"] = s[len(s) // 2]
    return res


def llama(a, model, threads):
    out_file = os.path.join(a.work, "llama-bench.json")
    run(["node", os.path.join(llama_ref, "bench.mjs"), "--model", model, "--threads", str(threads),
         "--pp", str(a.pp), "--tg", str(a.tg), "--reps", str(a.reps), "--warmup", "1",
         "--out", out_file])
    r = json.load(open(out_file))
    s = r["summary"]
    pp = (s.get("pp_tps_internal") or s["pp_tps"])["median"]
    tg = (s.get("tg_tps_internal") or s["tg_tps"])["median"]
    return {"pp": pp, "tg": tg, "backend": r.get("peer", {}).get("cpu_backend")}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--models", required=True)
    p.add_argument("--threads", default="1,2")
    p.add_argument("--pp", type=int, default=512)
    p.add_argument("--tg", type=int, default=128)
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--build", default="build-test")
    p.add_argument("--work", default=os.path.join(os.environ.get("GEMMA_CACHE", os.path.join(root, ".cache")), "vs-llama"))
    p.add_argument("--out")
    a = p.parse_args()
    os.makedirs(a.work, exist_ok=True)
    threads = [int(t) for t in a.threads.split(",")]
    bw = bandwidth(a.build, threads)
    rows = []
    for model in a.models.split(","):
        per_token = decode_bytes(model)
        for t in threads:
            o = ours(a, model, t)
            l = llama(a, model, t)
            bound = bw[t] * 1e9 / per_token if t in bw else None
            rows.append({"model": os.path.basename(model), "threads": t, "ours": o, "llama": l,
                         "decode_bytes": per_token, "read_gbs": bw.get(t), "tg_bound": bound})
            print(f"{os.path.basename(model)} t={t}: ours pp {o['pp']:.1f} tg {o['tg']:.2f} | "
                  f"llama.cpp pp {l['pp']:.1f} tg {l['tg']:.2f}", file=sys.stderr, flush=True)

    print(f"pp{a.pp} / tg{a.tg}, median of {a.reps} runs; llama.cpp v0.5.0 ({rows[0]['llama']['backend']}) "
          f"timed by its own perf counters; F16 KV cache for both\n")
    print("| model | threads | test | gemma-run t/s | llama.cpp t/s | ratio | % of bandwidth bound |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for r in rows:
        for test, n in (("pp", a.pp), ("tg", a.tg)):
            o, l = r["ours"][test], r["llama"][test]
            share = f"{100 * o / r['tg_bound']:.0f}% of {r['tg_bound']:.1f}" if test == "tg" and r["tg_bound"] else ""
            print(f"| {r['model']} | {r['threads']} | {test}{n} | {o:.2f} | {l:.2f} | {o / l:.2f}x | {share} |")
    print(f"\nread bandwidth (GB/s, kernel_bench): " + ", ".join(f"{t} thread(s) {bw[t]:.1f}" for t in sorted(bw)))
    for r in rows[:: len(threads)]:
        print(f"{r['model']}: {r['decode_bytes'] / 1e9:.3f} GB of weights read per decoded token")
    if a.out:
        json.dump({"settings": vars(a), "read_gbs": bw, "rows": rows}, open(a.out, "w"), indent=1)


if __name__ == "__main__":
    main()
