#!/usr/bin/env node
// llama_memory.mjs — llama.cpp's resident memory for a long context, the counterpart of
// cache-memory (bench/cache_memory.cc): the process's anonymous resident memory (RssAnon,
// which excludes the mmapped model file) after loading the model, after creating a context of
// --ctx tokens, and after filling it (a state of --ctx - 64 tokens from llama_depth.mjs --fill
// random, if --state is given).
//
//   node llama_memory.mjs --model M.gguf [--ctx 131072] [--kv-type F16] [--flash-attn auto]
//        [--threads 1] [--state FILE]

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const refDir = process.env.LLAMA_REF ||
  [path.join(here, '../../shared/tools/llama-ref'), path.join(here, '../../../shared/tools/llama-ref')]
    .find((d) => fs.existsSync(path.join(d, 'peer_common.mjs')));
if (!refDir) throw new Error('llama-ref not found: set LLAMA_REF to ../shared/tools/llama-ref');
const { openLlama, openContext, kvTypeName, flashAttnOpt, parseArgv } =
  await import(pathToFileURL(path.join(refDir, 'peer_common.mjs')).href);

const args = parseArgv(process.argv.slice(2), {
  model: null, ctx: 131072, kvType: 'F16', flashAttn: 'auto', threads: 1, state: null, peerDir: null,
});
const statusMiB = (key) => {
  const m = fs.readFileSync('/proc/self/status', 'utf8').match(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm'));
  return m ? +m[1] / 1024 : 0;
};
const report = (what) => console.log(`${what.padEnd(34)} RssAnon ${statusMiB('RssAnon').toFixed(1)} MiB, VmHWM ${statusMiB('VmHWM').toFixed(1)} MiB`);

const peer = await openLlama({ peerDir: args.peerDir });
report('llama.cpp loaded:');
const model = await peer.llama.loadModel({ modelPath: args.model, gpuLayers: 0 });
report('model loaded:');
const ctx = await openContext(model, { contextSize: args.ctx, batchSize: 512, threads: args.threads,
  kvType: kvTypeName(args.kvType), flashAttention: flashAttnOpt(args.flashAttn) });
report(`context of ${args.ctx} (${args.kvType}) created:`);
const seq = ctx.getSequence();
await seq.evaluateWithoutGeneratingNewTokens([300, 301, 302]);
report('after 3 tokens:');
if (args.state) {
  await seq.loadStateFromFile(args.state, { acceptRisk: true });
  report(`after loading ${seq.nextTokenIndex} tokens:`);
  await seq.evaluateWithoutGeneratingNewTokens([303]);
  report('after one more token:');
}
await ctx.dispose();
await model.dispose();
await peer.llama.dispose();
