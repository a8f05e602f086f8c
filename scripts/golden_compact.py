#!/usr/bin/env python3
"""Shrinks ref_logits.mjs output to a golden fixture: per position argmax and top-5, full logit
rows at a few positions, and the greedy continuation with llama.cpp's top-2 margin per step."""
import argparse
import json

ap = argparse.ArgumentParser()
ap.add_argument("raw")
ap.add_argument("out")
ap.add_argument("--preset", required=True)
ap.add_argument("--type", required=True)
ap.add_argument("--fingerprint", required=True)
ap.add_argument("--ref-fingerprint", required=True)
ap.add_argument("--command", required=True)
a = ap.parse_args()

raw = json.load(open(a.raw))
prompt = raw["positions"]
n = len(prompt)
gen = raw.get("gen_steps", [])
# Full rows: first position, around the sliding window, the middle and the last.
full_at = sorted({0, 7, 8, 9, 16, n // 2, n - 1})


def compact(row):
    # float32 values need at most 9 significant digits; 8 keep every test tolerance intact.
    return [float("%.8g" % x) for x in row]


fixture = {
    "command": a.command,
    "model": {"preset": a.preset, "type": a.type, "fingerprint": a.fingerprint,
              "reference_file_fingerprint": a.ref_fingerprint},
    "llama_cpp": raw["peer"],
    "settings": raw["settings"],
    "tokens": raw["prompt_tokens"],
    "argmax": [p["argmax"] for p in prompt],
    "top5": [p["top"][:5] for p in prompt],
    "rows": {str(i): compact(prompt[i]["logits"]) for i in full_at},
    "greedy": raw["greedy_tokens"],
    "greedy_top5": [p["top"][:5] for p in gen],
}
with open(a.out, "w") as f:
    json.dump(fixture, f, separators=(",", ":"))
    f.write("\n")
