#!/usr/bin/env python3
"""Deepens a llama.cpp sequence-state file: from a real state saved after a short prefill (the
template, which fixes the layout: caches, layers, types, row sizes, V transposed or not), writes
a state for a context of DEPTH tokens whose K/V rows are random (cycled from a pool of rows
taken from the template itself, so the values are ones llama.cpp produced). Loading it lets
llama.cpp decode at a depth of 128K without first spending an hour on prefill; the logits that
follow are meaningless, the attention work over the cache is real. gemma-bench does the same
with --depth-fill random.

Format (llama.cpp src/llama-context.cpp state_seq_save_file, src/llama-kv-cache.cpp
state_write): u32 magic 'ggsq', u32 version, u32 n_tokens, i32 tokens[n]; then per KV cache
(iSWA: the base cache, then the SWA cache): u32 n_stream, per stream u32 cell_count, then per
cell (i32 pos, u32 n_seq_id, i32 seq_id[n]), u32 v_trans, u32 n_layer, per layer (i32 k_type,
u64 k_row_bytes, rows), then per layer either (i32 v_type, u64 v_row_bytes, rows) or, transposed,
(i32 v_type, u32 el_bytes, u32 n_embd_v, for each of n_embd_v elements: cell_count values).

usage: llama_state.py TEMPLATE OUT DEPTH [--window W] [--n-vocab V] [--seed S]
"""
import argparse
import random
import struct
import sys


class Reader:
    def __init__(self, data):
        self.d = data
        self.o = 0

    def take(self, n):
        b = self.d[self.o:self.o + n]
        if len(b) != n:
            raise ValueError("template ends early at byte %d" % self.o)
        self.o += n
        return b

    def u32(self):
        return struct.unpack("<I", self.take(4))[0]

    def i32(self):
        return struct.unpack("<i", self.take(4))[0]

    def u64(self):
        return struct.unpack("<Q", self.take(8))[0]


def parse_cache(r):
    """One KV cache's state: a list of streams, each {cells, v_trans, k_layers, v_layers}."""
    streams = []
    for _ in range(r.u32()):
        cells = r.u32()
        s = {"cells": cells}
        streams.append(s)
        if cells == 0:
            continue
        pos = []
        for _ in range(cells):
            p = r.i32()
            n_seq = r.u32()
            if n_seq != 1:
                raise ValueError("expected one sequence per cell")
            r.i32()
            pos.append(p)
        s["pos"] = pos
        s["v_trans"] = r.u32()
        n_layer = r.u32()
        s["k"] = []
        for _ in range(n_layer):
            t, row = r.i32(), r.u64()
            s["k"].append((t, row, r.take(row * cells)))
        s["v"] = []
        for _ in range(n_layer):
            t = r.i32()
            if s["v_trans"]:
                el, n_embd = r.u32(), r.u32()
                s["v"].append((t, el, n_embd, r.take(el * n_embd * cells)))
            else:
                row = r.u64()
                s["v"].append((t, row, r.take(row * cells)))
    return streams


def write_cache(out, streams, positions, rng):
    out.write(struct.pack("<I", len(streams)))
    for s in streams:
        if s["cells"] == 0:
            out.write(struct.pack("<I", 0))
            continue
        n = len(positions)
        out.write(struct.pack("<I", n))
        out.write(b"".join(struct.pack("<iIi", p, 1, 0) for p in positions))
        out.write(struct.pack("<II", s["v_trans"], len(s["k"])))
        src = s["cells"]
        for t, row, data in s["k"]:
            out.write(struct.pack("<iQ", t, row))
            # Row i of the new cache is a template row picked by a fixed pseudo-random walk.
            pick = [rng.randrange(src) for _ in range(min(n, 4096))]
            chunk = []
            for i in range(n):
                j = pick[i % len(pick)]
                chunk.append(data[j * row:(j + 1) * row])
                if len(chunk) == 4096:
                    out.write(b"".join(chunk))
                    chunk = []
            out.write(b"".join(chunk))
        for v in s["v"]:
            if s["v_trans"]:
                t, el, n_embd, data = v
                out.write(struct.pack("<iII", t, el, n_embd))
                for e in range(n_embd):
                    base = e * src * el
                    vals = data[base:base + src * el]
                    reps = (n + src - 1) // src
                    out.write((vals * reps)[:n * el])
            else:
                t, row, data = v
                out.write(struct.pack("<iQ", t, row))
                pick = [rng.randrange(src) for _ in range(min(n, 4096))]
                chunk = []
                for i in range(n):
                    j = pick[i % len(pick)]
                    chunk.append(data[j * row:(j + 1) * row])
                    if len(chunk) == 4096:
                        out.write(b"".join(chunk))
                        chunk = []
                out.write(b"".join(chunk))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("template")
    ap.add_argument("out")
    ap.add_argument("depth", type=int)
    ap.add_argument("--n-vocab", type=int, default=262144)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()

    data = open(a.template, "rb").read()
    r = Reader(data)
    magic, version, n_tok = r.u32(), r.u32(), r.u32()
    r.take(4 * n_tok)
    caches = []
    while r.o < len(data):
        caches.append(parse_cache(r))
    if r.o != len(data) or len(caches) != 2:
        sys.exit("template: expected exactly two caches (iSWA: base, then SWA), found %d" % len(caches))
    base, swa = caches
    # The SWA cache keeps the last `window` positions: keep as many as the template had.
    swa_cells = max(s["cells"] for s in swa)
    if max(s["cells"] for s in base) != n_tok:
        sys.exit("template: the base cache should hold every token")

    rng = random.Random(a.seed)
    with open(a.out, "wb") as out:
        out.write(struct.pack("<III", magic, version, a.depth))
        out.write(b"".join(struct.pack("<i", 300 + rng.randrange(a.n_vocab - 300)) for _ in range(a.depth)))
        write_cache(out, base, list(range(a.depth)), rng)
        write_cache(out, swa, list(range(max(0, a.depth - swa_cells), a.depth)), rng)
    print("%s: %d tokens (base cache %d cells, SWA cache %d cells)" % (a.out, a.depth, a.depth,
                                                                       min(a.depth, swa_cells)))


main()
