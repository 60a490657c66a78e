// Runs one ONNX model with ONNX Runtime (onnxruntime-node) for cinfer's
// real-model comparisons. Usage:
//   node run_ort.cjs MODULES_DIR MODEL OUT.bin NAME:DIM,DIM,...:IN.bin [...]
// Inputs are raw little-endian float32. OUT.bin gets, for every output in
// session order: u32 name length, name bytes, u32 rank, i64 dims[rank],
// then the float32 data. Graph optimizations stay on (ORT's default).
'use strict';
const fs = require('fs');
const path = require('path');

async function main() {
  const [modules, model, outPath, ...specs] = process.argv.slice(2);
  const ort = require(path.join(modules, 'onnxruntime-node'));
  const feeds = {};
  for (const s of specs) {
    // NAME may itself contain ':' (e.g. onnx::Flatten_0): split from the right
    const j = s.lastIndexOf(':'), i = s.lastIndexOf(':', j - 1);
    const name = s.slice(0, i), dimStr = s.slice(i + 1, j), file = s.slice(j + 1);
    const dims = dimStr.split(',').map(Number);
    const buf = fs.readFileSync(file);
    const data = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
    feeds[name] = new ort.Tensor('float32', Float32Array.from(data), dims);
  }
  const session = await ort.InferenceSession.create(model, {
    intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all',
  });
  const results = await session.run(feeds);
  const parts = [];
  for (const name of session.outputNames) {
    const t = results[name];
    if (t.type !== 'float32') throw new Error(`output ${name}: type ${t.type}`);
    const nb = Buffer.from(name, 'utf8');
    const head = Buffer.alloc(4 + nb.length + 4 + 8 * t.dims.length);
    let o = 0;
    head.writeUInt32LE(nb.length, o); o += 4;
    nb.copy(head, o); o += nb.length;
    head.writeUInt32LE(t.dims.length, o); o += 4;
    for (const d of t.dims) { head.writeBigInt64LE(BigInt(d), o); o += 8; }
    parts.push(head, Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  }
  fs.writeFileSync(outPath, Buffer.concat(parts));
}

main().catch((err) => { console.error(`run_ort: ${err.message}`); process.exit(1); });
