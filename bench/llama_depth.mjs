#!/usr/bin/env node
// llama_depth.mjs — llama.cpp's prompt (pp) and decode (tg) speed at a context depth, the
// counterpart of `gemma-bench -d DEPTH` (bench/depth_vs_llama.sh runs both side by side).
//
//   node llama_depth.mjs --model M.gguf --depth 32768 [--fill prefill|random] [--pp 512]
//        [--tg 32] [--reps 3] [--threads 2] [--kv-type F16] [--flash-attn auto]
//        [--work DIR] [--out r.json]
//
// --fill prefill: DEPTH random tokens are evaluated once (batches of 512) and the sequence state
// is saved. --fill random: a 1024-token prefill is saved and deepened to DEPTH by llama_state.py
// (random K/V rows taken from that prefill), the same idea as gemma-bench --depth-fill random.
// Every run then loads the state (untimed) and times either one batch of --pp tokens or --tg
// single-token decodes after one untimed token. Reported: median tokens/s over --reps, from the
// wall clock around the node-llama-cpp calls, from llama.cpp's own perf counters, and from the
// process CPU time (comparable to gemma-bench --cpu-time with one thread).
// Needs the llama-ref peer (../shared/tools/llama-ref; LLAMA_REF=dir to override).

import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const refDir = process.env.LLAMA_REF ||
  [path.join(here, '../../shared/tools/llama-ref'), path.join(here, '../../../shared/tools/llama-ref')]
    .find((d) => fs.existsSync(path.join(d, 'peer_common.mjs')));
if (!refDir) throw new Error('llama-ref not found: set LLAMA_REF to ../shared/tools/llama-ref');
const { openLlama, openContext, kvTypeName, flashAttnOpt, parseArgv } =
  await import(pathToFileURL(path.join(refDir, 'peer_common.mjs')).href);

const args = parseArgv(process.argv.slice(2), {
  model: null, depth: 4096, fill: 'prefill', pp: 512, tg: 32, reps: 3, threads: 2, kvType: 'F16',
  flashAttn: 'auto', work: null, out: null, peerDir: null, verbose: false, seed: 7,
});
if (!args.model) {
  console.error('usage: node llama_depth.mjs --model M.gguf --depth N [--fill prefill|random] [--pp 512] [--tg 32] ...');
  process.exit(2);
}
const work = args.work || path.join(here, '..', '.cache', 'llama-depth');
fs.mkdirSync(work, { recursive: true });

const now = () => Number(process.hrtime.bigint()) / 1e9;
// CPU seconds of the whole process (all threads): with --threads 1, the time llama.cpp's work
// took on the CPU, much less disturbed than the wall clock when other processes compete.
const cpuNow = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
function lcg(seed) { let x = seed >>> 0 || 1; return () => (x = (Math.imul(x, 1664525) + 1013904223) >>> 0); }

const peer = await openLlama({ peerDir: args.peerDir, verbose: args.verbose, logLevel: 'info' });
const model = await peer.llama.loadModel({ modelPath: args.model, gpuLayers: 0 });
let nVocab = 0;
for (const t of model.iterateAllTokens()) if (t + 1 > nVocab) nVocab = t + 1;
const rand = lcg(args.seed);
const lo = Math.min(300, Math.floor(nVocab / 2));
const randomTokens = (n) => Array.from({ length: n }, () => lo + (rand() % (nVocab - lo)));

const contextSize = Math.ceil((args.depth + Math.max(args.pp, args.tg + 1) + 16) / 256) * 256;
const batchSize = Math.max(512, args.pp);
const kvType = kvTypeName(args.kvType);
const flashAttention = flashAttnOpt(args.flashAttn);
const ctx = await openContext(model, { contextSize, batchSize, threads: args.threads, kvType, flashAttention,
  performanceTracking: true });
const seq = ctx.getSequence();

// llama.cpp's own counters, read back from its log (printTimings prints and resets them)
async function internalTimings() {
  const start = peer.logs.length;
  await ctx.printTimings();
  for (let i = 0; i < 100; i++) {
    const text = peer.logs.slice(start).join('');
    const pe = text.match(/prompt eval time =\s*([\d.]+) ms \/\s*(\d+) tokens/);
    const ev = text.match(/\beval time =\s*([\d.]+) ms \/\s*(\d+) runs/g);
    const last = ev && ev[ev.length - 1].match(/=\s*([\d.]+) ms \/\s*(\d+) runs/);
    if (pe && last) return { p_ms: +pe[1], p_n: +pe[2], e_ms: +last[1], e_n: +last[2] };
    await sleep(10);
  }
  return null;
}

// The state at depth: made once per (model, depth, fill, kv type, flash attention).
const tag = `${path.basename(args.model, '.gguf')}-d${args.depth}-${args.fill}-${kvType}-fa${flashAttention}`;
const statePath = path.join(work, `${tag}.state`);
const fill = { seconds: 0, reused: args.depth === 0 || fs.existsSync(statePath) };
if (!fill.reused) {
  const t0 = now();
  await seq.clearHistory();
  const n = args.fill === 'random' ? Math.min(1024, args.depth) : args.depth;
  const toks = randomTokens(n);
  for (let i = 0; i < n; i += 512) await seq.evaluateWithoutGeneratingNewTokens(toks.slice(i, i + 512));
  if (args.fill === 'random') {
    const template = path.join(work, `${tag}.template`);
    await seq.saveStateToFile(template);
    execFileSync('python3', [path.join(here, 'llama_state.py'), template, statePath, String(args.depth),
      '--n-vocab', String(nVocab)], { stdio: 'inherit' });
    fs.unlinkSync(template);
  } else {
    await seq.saveStateToFile(statePath);
  }
  fill.seconds = now() - t0;
  console.error(`state at depth ${args.depth} (${args.fill}): ${fill.seconds.toFixed(1)} s`);
}

async function loadDepth() {
  await seq.clearHistory();
  if (args.depth > 0) await seq.loadStateFromFile(statePath, { acceptRisk: true });
  if (seq.nextTokenIndex !== args.depth) throw new Error(`state holds ${seq.nextTokenIndex} tokens, expected ${args.depth}`);
  await internalTimings();  // reset the counters
}

const runs = { pp: [], tg: [] };
for (let r = -1; r < args.reps; r++) {  // r = -1: warm-up
  if (args.pp > 0) {
    await loadDepth();
    const toks = randomTokens(args.pp);
    const t0 = now(), c0 = cpuNow();
    await seq.evaluateWithoutGeneratingNewTokens(toks);
    const wall = args.pp / (now() - t0), cpu = args.pp / (cpuNow() - c0);
    const inner = await internalTimings();
    if (r >= 0) runs.pp.push({ wall, cpu, internal: inner ? inner.p_n / (inner.p_ms / 1e3) : null });
  }
  if (args.tg > 0) {
    await loadDepth();
    const it = seq.evaluate(randomTokens(1), { temperature: 0, yieldEogToken: true });
    await it.next();  // the first token: prompt eval, untimed
    await internalTimings();
    const t0 = now(), c0 = cpuNow();
    for (let i = 0; i < args.tg; i++) {
      const res = await it.next();
      if (res.done) throw new Error('generation stopped early');
    }
    const wall = args.tg / (now() - t0), cpu = args.tg / (cpuNow() - c0);
    await it.return();
    const inner = await internalTimings();
    if (r >= 0) runs.tg.push({ wall, cpu, internal: inner ? inner.e_n / (inner.e_ms / 1e3) : null });
  }
}

const summary = (xs) => xs.length ? { wall: median(xs.map((x) => x.wall)), cpu: median(xs.map((x) => x.cpu)),
  internal: median(xs.map((x) => x.internal)) } : null;
const result = {
  tool: 'llama_depth.mjs', model: args.model, peer: peer.info(),
  settings: { depth: args.depth, fill: args.fill, pp: args.pp, tg: args.tg, reps: args.reps, threads: args.threads,
    kv_type: kvType, flash_attention: flashAttention, context_size: contextSize, batch_size: batchSize },
  fill, runs, pp_tps: summary(runs.pp), tg_tps: summary(runs.tg),
};
const text = JSON.stringify(result, null, 1);
if (args.out) fs.writeFileSync(args.out, text + '\n'); else process.stdout.write(text + '\n');
const fmt = (x) => (x ? `${x.internal.toFixed(2)} t/s (CPU time: ${x.cpu.toFixed(2)})` : '-');
console.error(`llama.cpp d${args.depth}: pp${args.pp} ${fmt(result.pp_tps)}, tg${args.tg} ${fmt(result.tg_tps)}; medians of ${args.reps}`);
await ctx.dispose();
await model.dispose();
await peer.llama.dispose();
process.exit(0);
