// ONNX Runtime (onnxruntime-node) side of cinfer's runtime benchmark: the
// counterpart of bench/runtime_bench.c, same arguments, same inputs, same
// JSON line. Usage:
//   node ort_bench.cjs MODULES_DIR MODEL [--threads N] [--shape D,D,...]...
//       [--iters N] [--budget SECONDS] [--min-runs N] [--seed S] [--dump OUT.bin]
// Session: graph optimizations 'all', intra-op threads N, inter-op 1,
// sequential execution (ORT's defaults otherwise, spinning included).
// Inputs: the shared LCG stream ((s >> 8) / 2^23 - 1, exact in float32).
// --dump writes the warm-up outputs like runtime_bench --dump.
// rss_kib: VmHWM (peak RSS of this process image; includes Node itself).
// getrusage's maxRSS would carry the harness's size over fork + exec.
'use strict';
const fs = require('fs');
const path = require('path');

function peakRssKib() {
  try {
    const m = /^VmHWM:\s*(\d+) kB/m.exec(fs.readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]);
  } catch (err) { /* not Linux */ }
  return process.resourceUsage().maxRSS;
}

function fail(model, msg) {
  process.stdout.write(JSON.stringify({ engine: 'ort', model, unsupported: false, error: msg }) + '\n');
  process.exit(2);
}

async function main() {
  const argv = process.argv.slice(2);
  const [modules, model] = argv;
  const o = { threads: 1, iters: 20, minRuns: 3, budget: 2.0, seed: 1, dump: null, shapes: [] };
  for (let i = 2; i < argv.length; i += 2) {
    const k = argv[i], v = argv[i + 1];
    if (v === undefined) fail(model, 'usage: option without value');
    if (k === '--threads') o.threads = Number(v);
    else if (k === '--iters') o.iters = Number(v);
    else if (k === '--budget') o.budget = Number(v);
    else if (k === '--min-runs') o.minRuns = Number(v);
    else if (k === '--seed') o.seed = Number(v) >>> 0;
    else if (k === '--dump') o.dump = v;
    else if (k === '--shape') o.shapes.push(v === '' ? [] : v.split(',').map(Number));
    else fail(model, `usage: unknown option ${k}`);
  }
  const ort = require(path.join(modules, 'onnxruntime-node'));
  const t0 = process.hrtime.bigint();
  let session;
  try {
    session = await ort.InferenceSession.create(model, {
      intraOpNumThreads: o.threads, interOpNumThreads: 1,
      graphOptimizationLevel: 'all', executionMode: 'sequential',
    });
  } catch (err) { fail(model, `load: ${err.message}`); }
  const loadMs = Number(process.hrtime.bigint() - t0) / 1e6;

  let s = o.seed;
  const feeds = {};
  session.inputNames.forEach((name, i) => {
    let dims = o.shapes[i];
    if (!dims) {
      const meta = session.inputMetadata && session.inputMetadata[i];
      if (!meta || !meta.shape) fail(model, `input ${name} needs --shape`);
      dims = meta.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : 1));
    }
    const n = dims.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    for (let j = 0; j < n; j++) {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      data[j] = (s >>> 8) / 8388608 - 1;
    }
    feeds[name] = new ort.Tensor('float32', data, dims);
  });

  let results;
  try { results = await session.run(feeds); } catch (err) { fail(model, `run: ${err.message}`); }
  if (o.dump) {
    const parts = [];
    for (const name of session.outputNames) {
      const t = results[name];
      if (t.type !== 'float32') fail(model, `output ${name}: type ${t.type}`);
      const nb = Buffer.from(name, 'utf8');
      const head = Buffer.alloc(4 + nb.length + 4 + 8 * t.dims.length);
      let p = 0;
      head.writeUInt32LE(nb.length, p); p += 4;
      nb.copy(head, p); p += nb.length;
      head.writeUInt32LE(t.dims.length, p); p += 4;
      for (const d of t.dims) { head.writeBigInt64LE(BigInt(d), p); p += 8; }
      parts.push(head, Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength));
    }
    fs.writeFileSync(o.dump, Buffer.concat(parts));
  }

  const ms = [];
  const start = process.hrtime.bigint();
  while (ms.length < o.iters &&
         (ms.length < o.minRuns || Number(process.hrtime.bigint() - start) / 1e6 < o.budget * 1e3)) {
    const a = process.hrtime.bigint();
    await session.run(feeds);
    ms.push(Number(process.hrtime.bigint() - a) / 1e6);
  }
  ms.sort((a, b) => a - b);
  const n = ms.length;
  const median = n % 2 ? ms[n >> 1] : (ms[n / 2 - 1] + ms[n / 2]) / 2;
  process.stdout.write(JSON.stringify({
    engine: 'ort', model, threads: o.threads, runs: n, median_ms: median, min_ms: ms[0],
    p90_ms: ms[Math.min(Math.floor(n * 9 / 10), n - 1)], load_ms: loadMs,
    rss_kib: peakRssKib(), samples_ms: ms,
  }) + '\n');
  await session.release();
}

main().catch((err) => fail(process.argv[3], err.message));
