#!/usr/bin/env python3
"""Long-prompt golden fixtures: the prompt generator shared with tests/test_golden_long.cc, and
the shrinking of ref_logits.mjs output to per-position argmax, top-1 logit and runner-up, plus
full logit rows at two positions."""
import argparse
import json

MASK = (1 << 64) - 1


def prompt_tokens(n, seed, n_vocab=1024):
    """BOS, then ids in [17, n_vocab) from a 64-bit LCG (PCG's multiplier), top bits."""
    x = seed
    out = [2]
    for _ in range(1, n):
        x = (x * 6364136223846793005 + 1442695040888963407) & MASK
        out.append(17 + (x >> 33) % (n_vocab - 17))
    return out


ap = argparse.ArgumentParser()
ap.add_argument("raw", nargs="?")
ap.add_argument("out", nargs="?")
ap.add_argument("--print-tokens", type=int)
ap.add_argument("--seed", type=int, required=True)
ap.add_argument("--preset")
ap.add_argument("--sets")
ap.add_argument("--fingerprint")
ap.add_argument("--command")
a = ap.parse_args()

if a.print_tokens:
    print(",".join(map(str, prompt_tokens(a.print_tokens, a.seed))))
    raise SystemExit

raw = json.load(open(a.raw))
pos = raw["positions"]
n = len(pos)
assert raw["prompt_tokens"] == prompt_tokens(n, a.seed), "prompt does not match the generator"
rows_at = [n // 2, n - 1]


def g(x):
    return float("%.6g" % x)


fixture = {
    "command": a.command,
    "model": {"preset": a.preset, "type": "F32", "sets": a.sets.split(), "fingerprint": a.fingerprint},
    "llama_cpp": raw["peer"],
    "settings": raw["settings"],
    "prompt": {"n": n, "seed": a.seed, "head": raw["prompt_tokens"][:8]},
    "argmax": [p["argmax"] for p in pos],
    "top1": [g(p["top"][0][1]) for p in pos],
    "second": [[p["top"][1][0], g(p["top"][1][1])] for p in pos],
    "rows": {str(i): [float("%.7g" % x) for x in pos[i]["logits"]] for i in rows_at},
}
with open(a.out, "w") as f:
    json.dump(fixture, f, separators=(",", ":"))
    f.write("\n")
