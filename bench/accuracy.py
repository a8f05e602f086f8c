#!/usr/bin/env python3
"""Accuracy of gemma-run's int8 activations, measured against llama.cpp's own quantization error.

For each synthetic model (preset) and weight type, this script

 1. writes the quantized file F.gguf (`gemma-quantize synth --preset P --type T`) and its exact
    F32 twin F.f32.gguf (`--f32-twin`: every weight is the decoded value of F.gguf, stored as
    F32) into a cache directory (default .cache/accuracy, or $GEMMA_CACHE/accuracy);
 2. builds a deterministic prompt of N token ids (default 128): <bos> (2), then ids in
    [17, n_vocab) from a seeded 32-bit LCG;
 3. gets the logits of every position from
      exact     llama.cpp on the F32 twin (KV cache F32, flash attention off): the same weights
                with no activation quantization, the reference;
      llama-q   llama.cpp on the quantized file, same settings (it quantizes activations to
                Q8_0/Q8_K blocks, or converts them to F16/BF16, before each matmul);
      ours      gemma-run on the quantized file, default (fast: int8 activations) precision;
      ours-x    gemma-run on the quantized file with --precision exact (fp32 activations);
      floor     gemma-run --precision exact on the F32 twin: how far our fp32 arithmetic is from
                llama.cpp's fp32 arithmetic on identical weights (llama.cpp's GELU goes through
                an fp16 table, summation orders differ), i.e. the error no activation format
                can remove;
 4. prints a markdown table of RMS and max |logit - exact| over all positions and all vocab
    entries, the ratio RMS(ours) / RMS(llama-q), and writes everything as JSON.

Everything runs under `nice -n 19` with one thread (the machine is shared with speed benchmarks).

usage: bench/accuracy.py [--presets tiny,tiny-e,tiny-moe] [--types Q8_0,Q4_0,...] [-n 128]
         [--seeds 1234,...] [--build build-test] [--cache DIR] [--set KEY=VALUE ...]
         [--no-exact] [--no-floor] [--out CACHE/accuracy.json]
Python 3 standard library only.
"""
import argparse
import json
import math
import os
import re
import subprocess
import sys
import time

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(here)
REF = os.path.join(os.environ.get("GEMMA_LLAMA_REF", os.path.join(root, "..", "shared", "tools", "llama-ref")), "ref_logits.mjs")
NICE = ["nice", "-n", "19"]


def run(cmd, quiet=False):
    if not quiet:
        print("$ " + " ".join(cmd), file=sys.stderr, flush=True)
    t0 = time.time()
    p = subprocess.run(NICE + cmd, capture_output=True, text=True)
    if p.returncode != 0:
        sys.stderr.write(p.stdout + p.stderr)
        raise SystemExit("command failed (exit %d): %s" % (p.returncode, " ".join(cmd)))
    return p.stdout, time.time() - t0


def lcg_tokens(n, vocab, seed):
    """<bos> then n-1 ids in [17, vocab) from a 32-bit LCG (Numerical Recipes constants)."""
    x = seed & 0xFFFFFFFF
    toks = [2]
    while len(toks) < n:
        x = (1664525 * x + 1013904223) & 0xFFFFFFFF
        toks.append(17 + (x >> 8) % (vocab - 17))
    return toks


def n_vocab(gemma_run, model):
    out, _ = run([gemma_run, "-m", model, "--info"], quiet=True)
    m = re.search(r"^vocab:\s+(\d+)", out, re.M)
    if not m:
        raise SystemExit("no 'vocab:' line in gemma-run --info of " + model)
    return int(m.group(1))


def llama_logits(model, tokens, out):
    run(["node", REF, "--model", model, "--tokens", ",".join(map(str, tokens)), "--all",
         "--n-gen", "0", "--top", "0", "--threads", "1", "--kv-type", "F32", "--flash-attn", "off",
         "--out", out])
    d = json.load(open(out))
    if d["prompt_tokens"] != tokens:
        raise SystemExit("llama.cpp evaluated other tokens than asked")
    pos = sorted(d["positions"], key=lambda p: p["pos"])
    if len(pos) != len(tokens):
        raise SystemExit("llama.cpp returned %d positions, expected %d" % (len(pos), len(tokens)))
    return [p["logits"] for p in pos], d


def ours_logits(gemma_run, model, tokens, out, precision):
    cmd = [gemma_run, "-m", model, "-t", "1", "--cache-type", "f32", "--tokens",
           ",".join(map(str, tokens)), "--all-logits", "--dump-logits", out]
    if precision:
        cmd += ["--precision", precision]
    run(cmd)
    d = json.load(open(out))
    if d["tokens"] != tokens or len(d["logits"]) != len(tokens):
        raise SystemExit("gemma-run dumped other tokens/positions than asked")
    return d["logits"]


class Err:
    """RMS and max |a - ref| over all positions and vocab entries, and top-1 agreement,
    accumulated over several prompts."""

    def __init__(self):
        self.s, self.mx, self.n, self.agree, self.pos = 0.0, 0.0, 0, 0, 0
        self.per_prompt = []

    def add(self, a, ref):
        s, mx, n = 0.0, 0.0, 0
        for ra, rr in zip(a, ref):
            if len(ra) != len(rr):
                raise SystemExit("vocab sizes differ: %d vs %d" % (len(ra), len(rr)))
            for x, y in zip(ra, rr):
                d = x - y
                s += d * d
                if abs(d) > mx:
                    mx = abs(d)
            n += len(rr)
            self.agree += max(range(len(ra)), key=ra.__getitem__) == max(range(len(rr)), key=rr.__getitem__)
        self.s += s
        self.n += n
        self.pos += len(ref)
        self.mx = max(self.mx, mx)
        self.per_prompt.append(math.sqrt(s / n))

    def result(self):
        return {"rms": math.sqrt(self.s / self.n), "max_abs": self.mx,
                "top1_agree": self.agree / self.pos, "rms_per_prompt": self.per_prompt}


def rms_of(refs):
    s = sum(x * x for ref in refs for r in ref for x in r)
    return math.sqrt(s / sum(len(r) for ref in refs for r in ref))


def weight_types(gemma_run, model):
    """{type: tensor count} from gemma-run --info (tiny shapes make the K-quant mixes fall back
    to Q8_0 for matrices whose rows are not a multiple of 256)."""
    out, _ = run([gemma_run, "-m", model, "--info"], quiet=True)
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^\s+(\w+)\s+(\d+) tensors", out, re.M)}


def ratio_cell(r):
    if not r["ratio"]:
        return "-"
    per = [o / l for o, l in zip(r["ours"]["rms_per_prompt"], r["llama_q"]["rms_per_prompt"]) if l]
    if len(per) < 2:
        return "%.2f" % r["ratio"]
    return "%.2f (%.2f–%.2f)" % (r["ratio"], min(per), max(per))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--presets", default="tiny,tiny-e,tiny-moe")
    ap.add_argument("--types", default="Q8_0,Q4_0,Q4_K_M,Q5_K_M,Q6_K,F16,BF16")
    ap.add_argument("-n", "--positions", type=int, default=128)
    ap.add_argument("--seeds", default="1234,1,2,3",
                    help="LCG seeds of the prompts, comma-separated (one prompt of N per seed; "
                         "the RMS is pooled over all of them)")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="passed to gemma-quantize synth (both files)")
    ap.add_argument("--build", default="build-test")
    ap.add_argument("--cache", default=os.path.join(os.environ["GEMMA_CACHE"], "accuracy")
                    if os.environ.get("GEMMA_CACHE") else os.path.join(root, ".cache", "accuracy"))
    ap.add_argument("--no-exact", action="store_true", help="skip gemma-run --precision exact")
    ap.add_argument("--no-floor", action="store_true", help="skip gemma-run on the F32 twin")
    ap.add_argument("--keep-twin", action="store_true", help="keep F32 twins (default: delete "
                    "twins larger than 1 GB after use)")
    ap.add_argument("--out", default=None, help="JSON results (default: CACHE/accuracy.json)")
    a = ap.parse_args()

    bindir = os.path.join(root, a.build, "cli")
    quantize, gemma_run = os.path.join(bindir, "gemma-quantize"), os.path.join(bindir, "gemma-run")
    os.makedirs(a.cache, exist_ok=True)
    seeds = [int(x) for x in a.seeds.split(",")]
    tag = "".join("_" + kv.replace("=", "-") for kv in a.set)
    a.out = a.out or os.path.join(a.cache, "accuracy%s.json" % tag)
    sets = [x for kv in a.set for x in ("--set", kv)]

    rows = []
    for preset in a.presets.split(","):
        for typ in a.types.split(","):
            t0 = time.time()
            base = os.path.join(a.cache, "%s_%s%s" % (preset, typ, tag))
            qf, tf = base + ".gguf", base + ".f32.gguf"
            for f, extra in ((qf, []), (tf, ["--f32-twin"])):
                if not os.path.exists(f):
                    run([quantize, "synth", "--preset", preset, "--type", typ] + extra + sets +
                        ["-o", f + ".tmp"])
                    os.replace(f + ".tmp", f)
            vocab = n_vocab(gemma_run, qf)
            errs = {k: Err() for k in ("ours", "llama_q", "ours_exact", "floor")}
            exacts = []
            for seed in seeds:
                toks = lcg_tokens(a.positions, vocab, seed)
                pfx = "%s.s%d" % (base, seed)
                exact, info = llama_logits(tf, toks, pfx + ".llama-exact.json")
                exacts.append(exact)
                errs["llama_q"].add(llama_logits(qf, toks, pfx + ".llama-q.json")[0], exact)
                errs["ours"].add(ours_logits(gemma_run, qf, toks, pfx + ".ours.json", None), exact)
                if not a.no_exact:
                    errs["ours_exact"].add(ours_logits(gemma_run, qf, toks, pfx + ".ours-x.json",
                                                       "exact"), exact)
                if not a.no_floor:
                    errs["floor"].add(ours_logits(gemma_run, tf, toks, pfx + ".floor.json",
                                                  "exact"), exact)
            row = {"preset": preset, "type": typ, "prompts": len(seeds), "positions": a.positions * len(seeds),
                   "n_vocab": vocab, "set": a.set, "seeds": seeds, "logit_rms": rms_of(exacts),
                   "weight_types": weight_types(gemma_run, qf)}
            for k, e in errs.items():
                if e.n:
                    row[k] = e.result()
            row["ratio"] = row["ours"]["rms"] / row["llama_q"]["rms"] if row["llama_q"]["rms"] else None
            row["llama"] = {"settings": info["settings"], "cpu_backend": info["peer"].get("cpu_backend"),
                            "versions": info["peer"].get("versions")}
            row["seconds"] = time.time() - t0
            rows.append(row)
            if not a.keep_twin and os.path.getsize(tf) > 1 << 30:
                os.remove(tf)
            print("%s %s: ours %.4g  llama.cpp %.4g  ratio %.2f  (%.0f s)" % (
                preset, typ, row["ours"]["rms"], row["llama_q"]["rms"], row["ratio"] or 0,
                row["seconds"]), file=sys.stderr, flush=True)

    has_x, has_f = not a.no_exact, not a.no_floor
    hdr = ["model", "type", "matrices (tensor count)", "prompts×positions", "RMS(ours − exact)",
           "RMS(llama.cpp q − exact)", "ratio (per-prompt range)",
           "max abs ours", "max abs llama.cpp"]
    if has_x:
        hdr += ["RMS(ours --precision exact − exact)"]
    if has_f:
        hdr += ["floor: RMS(ours exact on twin − exact)"]
    hdr += ["top-1 agree ours / llama.cpp"]
    lines = ["| " + " | ".join(hdr) + " |", "|" + "|".join([" --- "] * 3 + [" ---: "] * (len(hdr) - 3)) + "|"]
    for r in rows:
        wt = " ".join("%s×%d" % (k, v) for k, v in sorted(r["weight_types"].items()) if k != "F32")
        c = [r["preset"] + "".join(" " + kv for kv in r["set"]), r["type"], wt,
             "%d×%d" % (r["prompts"], r["positions"] // r["prompts"]), "%.4f" % r["ours"]["rms"],
             "%.4f" % r["llama_q"]["rms"], ratio_cell(r),
             "%.3f" % r["ours"]["max_abs"], "%.3f" % r["llama_q"]["max_abs"]]
        if has_x:
            c.append("%.4f" % r["ours_exact"]["rms"])
        if has_f:
            c.append("%.5f" % r["floor"]["rms"])
        c.append("%.3f / %.3f" % (r["ours"]["top1_agree"], r["llama_q"]["top1_agree"]))
        lines.append("| " + " | ".join(c) + " |")
    print("\n".join(lines))
    with open(a.out, "w") as f:
        json.dump({"command": " ".join([sys.argv[0]] + sys.argv[1:]), "seeds": seeds,
                   "rows": rows, "table": lines}, f, indent=1)
    print("wrote " + a.out, file=sys.stderr)


if __name__ == "__main__":
    main()
