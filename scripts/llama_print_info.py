#!/usr/bin/env python3
"""Parses llama.cpp's `print_info:` lines from a ref_logits.mjs --verbose log into JSON."""
import json
import re
import sys

log, preset, type_, sets, fingerprint = sys.argv[1:6]
info = {}
for line in open(log, errors="replace"):
    m = re.search(r"print_info: (\S[^=]*?)\s+= (.*)$", line)
    if m:
        info.setdefault(m.group(1).strip(), m.group(2).strip())
keys = ["arch", "n_ctx_train", "n_embd", "n_layer", "n_head", "n_head_kv", "n_rot", "n_swa",
        "n_embd_head_k", "n_embd_head_k_swa", "n_rot_swa", "n_ff", "n_expert", "n_expert_used",
        "freq_base_train", "freq_base_swa", "f_norm_rms_eps", "model type", "model params",
        "n_vocab", "file type", "general.name"]
missing = [k for k in keys if k not in info]
if missing:
    sys.exit(f"llama_print_info.py: {log}: missing {missing}")
print(json.dumps({"preset": preset, "type": type_, "sets": [s for s in sets.split() if s != "--set"], "fingerprint": fingerprint,
                  "llama_cpp": {k: info[k] for k in keys}}))
