// The trust page in a real browser: headless Chromium loads web/ under the
// Content-Security-Policy cinferd will send, against a live simulated cinferd,
// and the DOM must show what the evidence says. A second origin serves the
// same evidence with one flipped bit, and the page must say FAILED.
// Prints "ok N - ..." / "not ok N - ..." lines; exits 1 on any failure.
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';

const SRC = process.env.CINFER_SRC;
const BIN = process.env.CINFER_BIN;
const CHROMIUM = process.env.CINFER_CHROMIUM ?? 'chromium';
export const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
  "base-uri 'none'; form-action 'none'; frame-ancestors 'none'; object-src 'none'";
const TYPES = { '.html': 'text/html; charset=utf-8', '.css': 'text/css; charset=utf-8', '.js': 'text/javascript; charset=utf-8' };

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cinfer-webui-'));
const children = [];
let n = 0, failed = 0;
const check = (ok, what) => { n++; if (!ok) failed++; console.log(`${ok ? 'ok' : 'not ok'} ${n} - ${what}`); };
function finish() {
  for (const c of children) c.kill();
  fs.rmSync(tmp, { recursive: true, force: true });
  process.exit(failed ? 1 : 0);
}
setTimeout(() => { check(false, 'finished within 180 s'); finish(); }, 180000).unref();

// Static files from web/ plus /v1/* passed through to cinferd, like cinferd will serve them.
function startFront(upstream, tamper) {
  const srv = http.createServer((req, res) => {
    const u = new URL(req.url, 'http://x');
    if (u.pathname.startsWith('/v1/')) {
      https.get(upstream + req.url, { rejectUnauthorized: false }, (r) => {
        const chunks = [];
        r.on('data', (c) => chunks.push(c));
        r.on('end', () => {
          let body = Buffer.concat(chunks);
          if (tamper && u.pathname === '/v1/attestation' && r.statusCode === 200) {
            const j = JSON.parse(body);
            const rep = Buffer.from(j.evidence.evidence, 'base64');
            rep[0x90] ^= 1;			// first byte of the measurement
            j.evidence.evidence = rep.toString('base64');
            body = Buffer.from(JSON.stringify(j));
          }
          res.writeHead(r.statusCode, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
          res.end(body);
        });
      }).on('error', (e) => { res.writeHead(502); res.end(String(e)); });
      return;
    }
    if (u.pathname === '/canary.html') {		// proves CSP reports are seen
      res.writeHead(200, { 'Content-Type': TYPES['.html'], 'Content-Security-Policy': CSP });
      res.end('<!doctype html><title>c</title><script>document.title="ran"</script>');
      return;
    }
    const f = u.pathname === '/' ? 'index.html' : u.pathname.slice(1);
    const p = path.join(SRC, 'web', f);
    if (f.includes('/') || !fs.existsSync(p)) { res.writeHead(404); res.end(); return; }
    res.writeHead(200, { 'Content-Type': TYPES[path.extname(p)], 'Content-Security-Policy': CSP, 'X-Content-Type-Options': 'nosniff' });
    res.end(fs.readFileSync(p));
  });
  return new Promise((resolve) => srv.listen(0, '127.0.0.1', () => resolve(srv)));
}

// Asynchronous: the front servers above run in this same process.
function browse(url) {
  return new Promise((resolve) => {
    const c = spawn(CHROMIUM, ['--headless=new', '--no-sandbox', '--disable-gpu', '--no-first-run',
      `--user-data-dir=${path.join(tmp, `profile-${n}-${Math.random().toString(16).slice(2)}`)}`,
      '--enable-logging=stderr', '--v=0', '--virtual-time-budget=15000', '--dump-dom', url]);
    let dom = '', log = '';
    c.stdout.on('data', (d) => { dom += d; });
    c.stderr.on('data', (d) => { log += d; });
    const timer = setTimeout(() => c.kill('SIGKILL'), 60000);
    c.on('close', (status) => { clearTimeout(timer); resolve({ dom, log, status }); });
  });
}
const field = (dom, id) => {
  const m = dom.match(new RegExp(`<[a-z]+ id="${id}"([^>]*)>([\\s\\S]*?)</(dd|p|code|div)>`));
  return m ? { attrs: m[1], text: m[2].replace(/<[^>]+>/g, '') } : { attrs: '', text: '' };
};
const cspRefusals = (log) => log.split('\n').filter((l) => /Content Security Policy/i.test(l));

try {
  execFileSync(path.join(BIN, 'cinfer'), ['dev', 'init', path.join(tmp, 'sim')], { stdio: 'ignore' });
  const cfg = path.join(tmp, 'cinferd.json'), portFile = path.join(tmp, 'port');
  fs.writeFileSync(cfg, JSON.stringify({ listen: '127.0.0.1:0', threads: 1,
    model: { name: 'digits', path: path.join(SRC, 'models/digits.onnx') } }) + '\n');
  children.push(spawn(path.join(BIN, 'cinferd'), ['--config', cfg, '--sim', path.join(tmp, 'sim'), '--port-file', portFile], { stdio: 'ignore' }));
  for (let i = 0; i < 100 && !(fs.existsSync(portFile) && fs.statSync(portFile).size > 0); i++)
    await new Promise((r) => setTimeout(r, 100));
  const upstream = `https://127.0.0.1:${fs.readFileSync(portFile, 'utf8').trim()}`;
  const meas = execFileSync(path.join(BIN, 'cinfer'), ['measure', '--program', path.join(BIN, 'cinferd'), '--config', cfg], { encoding: 'utf8' }).trim();
  const good = await startFront(upstream, false);
  const bad = await startFront(upstream, true);
  const origin = (s) => `http://127.0.0.1:${s.address().port}`;

  const canary = await browse(`${origin(good)}/canary.html`);
  check(cspRefusals(canary.log).length > 0 && !canary.dom.includes('<title>ran'), 'CSP blocks an inline script and Chromium reports it (the detector works)');

  const g = await browse(`${origin(good)}/`);
  check(g.status === 0 && g.dom.includes('id="verdict"'), `Chromium rendered the page (exit ${g.status})`);
  check(cspRefusals(g.log).length === 0, `no CSP refusals on the page: ${cspRefusals(g.log).join(' | ')}`);
  check(/<section id="status"(?![^>]*hidden)/.test(g.dom), 'status section shown once the script runs');
  check(/<div id="sim-banner"(?![^>]*hidden)/.test(g.dom), 'SIMULATED banner is visible');
  check(/<div id="debug-banner"[^>]*hidden/.test(g.dom), 'debug banner stays hidden (debug is off)');
  const sig = field(g.dom, 'signature');
  check(/class="ok"/.test(sig.attrs) && /^valid/.test(sig.text), `signature shown valid: ${sig.text}`);
  check(field(g.dom, 'measurement').text === meas, 'measurement equals `cinfer measure` for this build and config');
  check(/changed with a fresh nonce/.test(field(g.dom, 'freshness').text), 'freshness: two nonces, two reports');
  check(/digits/.test(field(g.dom, 'models').text), 'model name from /v1/models');
  check(/SIMULATED/.test(field(g.dom, 'verdict').text), 'verdict names SIMULATED');
  check(field(g.dom, 'cli-cmd').text.includes(`cinfer attest ${origin(good)} --policy`), 'full-check command names this origin');

  const b = await browse(`${origin(bad)}/`);
  const bsig = field(b.dom, 'signature');
  check(/class="bad"/.test(bsig.attrs) && /not verified/.test(bsig.text), `tampered report: signature not verified (${bsig.text})`);
  check(/FAILED/.test(field(b.dom, 'verdict').text), 'tampered report: verdict says FAILED');
  check(/UNVERIFIED/.test(field(b.dom, 'measurement').text) && !/class="ok"/.test(field(b.dom, 'debug').attrs),
    'tampered report: its fields are marked UNVERIFIED, none shown as good');
  good.close(); bad.close();
} catch (err) {
  check(false, `smoke test crashed: ${err.stack}`);
}
finish();
