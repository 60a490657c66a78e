// Tests for web/verify.js, the trust page's in-browser checks, run under Node's
// own test runner with Node's WebCrypto (the same API the browser has).
// Vectors: a real AMD SEV-SNP report from Google Cloud with its VCEK, simulated
// evidence made by `cinfer attest --sim`, and a live cinferd.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { webcrypto } from 'node:crypto';

import * as v from '../../web/verify.js';

globalThis.crypto ??= webcrypto;	// Node 18 (Debian 12's nodejs) has no global crypto
const SRC = process.env.CINFER_SRC ?? path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = process.env.CINFER_BIN ?? path.join(SRC, 'build');
const VEC = process.env.CINFER_VECTORS ?? path.join(SRC, '../shared/vectors');
const vec = (p) => new Uint8Array(fs.readFileSync(path.join(VEC, p)));
const cinfer = (...args) => execFileSync(path.join(BIN, 'cinfer'), args, { encoding: 'utf8' });
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cinfer-web-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));

const GCP_MEASUREMENT = 'b747d55452e0b9e9079770a49e397c5e6d9573581e246da7baac4f28b5cdc5b1b6d19251b8ee600fd16a3708f58406f3';
const flip = (u8, byte, bit = 0) => { const c = u8.slice(); c[byte] ^= 1 << bit; return c; };
const pemOf = (der) => `-----BEGIN CERTIFICATE-----\n${v.toBase64(der).replace(/(.{64})/g, '$1\n')}\n-----END CERTIFICATE-----\n`;
const snpEnvelope = (report, certs, platform = 'snp') =>
  ({ evidence: { platform, evidence: v.toBase64(report), certs: certs.map(v.toBase64), collateral: [] } });

// ---- real AMD vector ------------------------------------------------------------
test('GCP Milan v5 report: fields parse at their offsets', () => {
  const rep = v.parseSnpReport(vec('snp/gcp_milan_v5_report.bin'));
  assert.equal(rep.version, 5);
  assert.equal(rep.vmpl, 0);
  assert.equal(rep.debug, false);
  assert.equal(rep.policy, 0x30000n);
  assert.equal(rep.signingKey, 'VCEK');
  assert.equal(v.toHex(rep.measurement), GCP_MEASUREMENT);
  assert.equal(v.toHex(rep.reportData), '00'.repeat(64));
  assert.equal(rep.reportedTcb, 0xde1b000000000004n);
});

test('GCP Milan v5 report: signature verifies under its VCEK (PEM), and a flipped bit fails', async () => {
  const pem = vec('snp/gcp_milan_vcek.pem');
  const [der] = v.certsFromBlob(pem);
  assert.equal(createHash('sha256').update(der).digest('hex'),
    '7fd64e5d61abcf364beece68636179904c38a15538032560f58f5daefa3de0bb');
  const cert = v.parseCert(der);
  assert.equal(cert.curve, 'P-384');
  assert.equal(cert.subjectCN, 'SEV-VCEK');
  assert.equal(cert.issuerCN, 'SEV-Milan');
  const report = vec('snp/gcp_milan_v5_report.bin');
  assert.equal(await v.verifySnpSignature(v.parseSnpReport(report), cert.spki), true);
  for (const [byte, bit] of [[0x90, 0], [0x50, 7], [0x08, 3], [0x29f, 1], [0x2a0, 0], [0x2e8 + 47, 7]])
    assert.equal(await v.verifySnpSignature(v.parseSnpReport(flip(report, byte, bit)), cert.spki), false,
      `flip at 0x${byte.toString(16)} must fail`);
  // Signature padding must be zero, as the C verifier demands.
  assert.equal(await v.verifySnpSignature(v.parseSnpReport(flip(report, 0x2a0 + 60)), cert.spki), false);
});

test('GCP Milan: the whole browser check accepts it (PEM or DER cert) and rejects a mutation', async () => {
  const report = vec('snp/gcp_milan_v5_report.bin');
  const pem = vec('snp/gcp_milan_vcek.pem');
  const [der] = v.certsFromBlob(pem);
  for (const c of [pem, der]) {
    const r = await v.checkAttestation(snpEnvelope(report, [c]), null);
    assert.equal(r.error, '');
    assert.equal(r.platform, 'snp');
    assert.equal(r.simulated, false);
    assert.equal(r.signature.ok, true);
    assert.equal(r.chipCert.subjectCN, 'SEV-VCEK');
    assert.equal(r.chipCert.sha256, '7fd64e5d61abcf364beece68636179904c38a15538032560f58f5daefa3de0bb');
  }
  const bad = await v.checkAttestation(snpEnvelope(flip(report, 0x90), [pem]), null);
  assert.equal(bad.signature.ok, false);
  assert.match(bad.signature.reason, /does not verify/);
  // Another chip's VCEK must not verify it either.
  const other = await v.checkAttestation(snpEnvelope(report, [vec('snp/gosev_milan_vcek.der')]), null);
  assert.equal(other.signature.ok, false);
});

test('GCP Milan VMPL 1 report verifies with the same VCEK and shows VMPL 1', async () => {
  const r = await v.checkAttestation(snpEnvelope(vec('snp/gcp_milan_v5_vmpl1_report.bin'), [vec('snp/gcp_milan_vcek.pem')]), null);
  assert.equal(r.signature.ok, true);
  assert.equal(r.report.vmpl, 1);
});

test('chip certificate found in an SNP certificate table (collateral cert_table)', async () => {
  const [vcek] = v.certsFromBlob(vec('snp/gcp_milan_vcek.pem'));
  const guid = v.fromHex('63da758de6644564adc5f4b93be8accd');
  const table = new Uint8Array(48 + vcek.length);
  table.set(guid, 0);
  new DataView(table.buffer).setUint32(16, 48, true);
  new DataView(table.buffer).setUint32(20, vcek.length, true);
  table.set(vcek, 48);
  const att = snpEnvelope(vec('snp/gcp_milan_v5_report.bin'), []);
  att.evidence.collateral = [{ name: 'cert_table', data: v.toBase64(table) }];
  assert.equal((await v.checkAttestation(att, null)).signature.ok, true);
  // An entry pointing past the table is refused, not read.
  new DataView(table.buffer).setUint32(20, vcek.length + 1, true);
  att.evidence.collateral = [{ name: 'cert_table', data: v.toBase64(table) }];
  const r = await v.checkAttestation(att, null);
  assert.equal(r.signature.ok, false);
  assert.match(r.error, /out of bounds/);
});

// ---- robustness of the parsers on hostile bytes ------------------------------------
test('DER walker: every truncation and many bit flips of a real cert end in VerifyError or a parse', () => {
  const [der] = v.certsFromBlob(vec('snp/gcp_milan_vcek.pem'));
  for (let n = 0; n < der.length; n++)
    assert.throws(() => v.parseCert(der.subarray(0, n)), v.VerifyError, `truncated at ${n}`);
  let parsed = 0;
  for (let i = 0; i < der.length; i += 3) {
    for (const bit of [0, 7]) {
      try { v.parseCert(flip(der, i, bit)); parsed++; } catch (e) { assert.ok(e instanceof v.VerifyError, `${i}: ${e}`); }
    }
  }
  assert.ok(parsed > 0);
  assert.throws(() => v.derRead(new Uint8Array([0x30, 0x85, 1, 2, 3, 4, 5]), 0), v.VerifyError);
  assert.throws(() => v.derRead(new Uint8Array([0x30, 0x81, 0x05, 0, 0, 0, 0, 0]), 0), /not minimal/);
  assert.throws(() => v.derRead(new Uint8Array([0x30, 0x84, 0xff, 0xff, 0xff, 0xff]), 0), /past/);
});

test('random mutations of a whole envelope: checkAttestation never throws, never accepts a changed signed part', async () => {
  const report = vec('snp/gcp_milan_v5_report.bin');
  const [vcek] = v.certsFromBlob(vec('snp/gcp_milan_vcek.pem'));
  let seed = 0x2545f491;
  const rnd = (n) => { seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5; return (seed >>> 0) % n; };
  let accepted = 0;
  for (let i = 0; i < 300; i++) {
    const rep = report.slice(), cert = vcek.slice();
    const target = rnd(3);
    const buf = target === 1 ? cert : rep;
    const at = rnd(buf.length);
    buf[at] ^= 1 + rnd(255);
    const certBlob = target === 2 ? cert.subarray(0, rnd(cert.length)) : cert;
    const r = await v.checkAttestation(snpEnvelope(rep, [certBlob]), null);
    if (r.signature.ok) accepted++;
    if (target === 0 && at < 0x2a0 + 48) assert.equal(r.signature.ok, false, `report byte 0x${at.toString(16)} changed`);
    if (target === 0 && at >= 0x2a0 + 48 && at < 0x2e8) assert.equal(r.signature.ok, false, 'r padding changed');
    if (target === 2) assert.equal(r.signature.ok, false, 'truncated cert');
  }
  assert.ok(accepted > 0, 'some mutations (unsigned bytes, cert fields outside the key) still verify');
  // A junk certs[] entry next to the right one is skipped, not fatal.
  const r = await v.checkAttestation({ evidence: { platform: 'snp', evidence: v.toBase64(report),
    certs: [v.toBase64(new TextEncoder().encode('-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n')), v.toBase64(vcek)] } }, null);
  assert.equal(r.signature.ok, true);
});

test('report parser refuses wrong sizes and versions; envelope errors become reasons', async () => {
  const report = vec('snp/gcp_milan_v5_report.bin');
  assert.throws(() => v.parseSnpReport(report.subarray(0, 0x49f)), v.VerifyError);
  const v9 = report.slice(); v9[0] = 9;
  assert.throws(() => v.parseSnpReport(v9), /version 9/);
  for (const att of [null, {}, { evidence: { platform: 'snp', evidence: '%%%' } },
    { evidence: { platform: 'snp', evidence: v.toBase64(report), certs: [v.toBase64(new Uint8Array([0x30, 0x82]))] } }]) {
    const r = await v.checkAttestation(att, null);
    assert.equal(r.signature.ok, false);
    assert.notEqual(r.signature.reason, '');
  }
  const tdx = await v.checkAttestation({ evidence: { platform: 'tdx', evidence: 'AA==', certs: [] } }, null);
  assert.equal(tdx.signature.ok, false);
  assert.match(tdx.signature.reason, /cinfer CLI/);
});

test('oidToString decodes large arcs (the receipt-key OID)', () => {
  // 2.25.171658393797760405032203954836047704843, DER from OpenSSL
  const out = path.join(tmp, 'oid.der');
  execFileSync('openssl', ['asn1parse', '-genstr', 'OID:2.25.171658393797760405032203954836047704843', '-noout', '-out', out]);
  assert.equal(v.oidToString(new Uint8Array(fs.readFileSync(out)).subarray(2)), '2.25.171658393797760405032203954836047704843');
  assert.equal(v.oidToString(v.fromHex('2b81040022')), '1.3.132.0.34');
});

// ---- simulated evidence from the real CLI ------------------------------------------
const sim = path.join(tmp, 'sim');
execFileSync(path.join(BIN, 'cinfer'), ['dev', 'init', sim], { stdio: 'ignore' });

function simEvidence(rdHex, ...extra) {
  const out = path.join(tmp, `ev-${Math.random().toString(16).slice(2)}.json`);
  cinfer('attest', '--sim', sim, '--report-data', rdHex, '--out', out, ...extra);
  return JSON.parse(fs.readFileSync(out, 'utf8'));
}

test('simulated evidence: labelled sim, signature verifies, fields as attested', async () => {
  const rd = v.toHex(v.newNonce(64));
  const meas = v.toHex(v.newNonce(48));
  const env = simEvidence(rd, '--measurement', meas);
  const r = await v.checkAttestation({ evidence: env }, null);
  assert.equal(r.error, '');
  assert.equal(r.platform, 'sim');
  assert.equal(r.simulated, true);
  assert.equal(r.signature.ok, true);
  assert.equal(r.chipCert.subjectCN, 'SEV-VCEK-SIMULATED');
  assert.equal(v.toHex(r.report.reportData), rd);
  assert.equal(v.toHex(r.report.measurement), meas);
  assert.equal(r.report.debug, false);
  assert.equal(r.report.vmpl, 0);
});

test('simulated evidence: --debug shows debug; mutated report or foreign key fails', async () => {
  const env = simEvidence('ab'.repeat(64), '--debug');
  const r = await v.checkAttestation({ evidence: env }, null);
  assert.equal(r.signature.ok, true);
  assert.equal(r.report.debug, true);
  const rep = v.fromBase64(env.evidence);
  for (const byte of [0x08, 0x50, 0x90, 0x2a0]) {
    const bad = { ...env, evidence: v.toBase64(flip(rep, byte)) };
    assert.equal((await v.checkAttestation({ evidence: bad }, null)).signature.ok, false, `flip 0x${byte.toString(16)}`);
  }
  // Another chip's P-384 key (a real AMD VCEK) must not verify this report.
  const foreign = { ...env, certs: [v.toBase64(vec('snp/gcp_milan_vcek.pem'))] };
  assert.equal((await v.checkAttestation({ evidence: foreign }, null)).signature.ok, false);
});

test('freshness from a pair: same report_data twice is called replayed', async () => {
  const a = await v.checkAttestation({ evidence: simEvidence('01'.repeat(32)) }, null);
  const b = await v.checkAttestation({ evidence: simEvidence('02'.repeat(32)) }, null);
  const a2 = await v.checkAttestation({ evidence: simEvidence('01'.repeat(32)) }, null);
  assert.equal(v.freshnessFromPair(a, b).state, 'changes');
  assert.equal(v.freshnessFromPair(a, a2).state, 'replayed');
  assert.equal(v.freshnessFromPair(a, { signature: { ok: false } }).state, 'unchecked');
});

// ---- a live cinferd --------------------------------------------------------------------
function get(url, { headers = {} } = {}) {
  return new Promise((resolve, reject) => {
    const req = https.get(url, { rejectUnauthorized: false, agent: false, headers }, (res) => {
      const cert = res.socket.getPeerCertificate(false);
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString('utf8'), certDer: new Uint8Array(cert.raw) }));
    });
    req.on('error', reject);
    req.setTimeout(20000, () => req.destroy(new Error('timeout')));
  });
}

test('live cinferd: evidence verifies, report_data recomputes from nonce + key digests, model listed', async (t) => {
  const cfg = path.join(tmp, 'cinferd.json');
  const portFile = path.join(tmp, 'port');
  fs.writeFileSync(cfg, JSON.stringify({ listen: '127.0.0.1:0', threads: 1,
    model: { name: 'digits', path: path.join(SRC, 'models/digits.onnx') } }) + '\n');
  const srv = spawn(path.join(BIN, 'cinferd'), ['--config', cfg, '--sim', sim, '--port-file', portFile], { stdio: 'ignore' });
  t.after(() => srv.kill());
  for (let i = 0; i < 100 && !(fs.existsSync(portFile) && fs.statSync(portFile).size > 0); i++)
    await new Promise((r) => setTimeout(r, 100));
  const base = `https://127.0.0.1:${fs.readFileSync(portFile, 'utf8').trim()}`;

  const nonce = v.newNonce(32);
  const res = await get(`${base}/v1/attestation?nonce=${v.toHex(nonce)}`);
  assert.equal(res.status, 200);
  const att = JSON.parse(res.body);
  // The TLS certificate carries the receipt key (RA-TLS extension); Node can see
  // the TLS key, which a page cannot, so here we recompute report_data fully.
  const cert = v.parseCert(res.certDer);
  const receiptSpki = cert.extensions.get('2.25.171658393797760405032203954836047704843');
  assert.ok(receiptSpki, 'TLS certificate has the receipt key extension');
  const hashes = [await v.sha256(cert.spki), await v.sha256(receiptSpki)];
  const r = await v.checkAttestation({ ...att, key_sha256: hashes.map(v.toHex) }, nonce);
  assert.equal(r.error, '');
  assert.equal(r.simulated, true);
  assert.equal(r.signature.ok, true);
  assert.equal(r.binding.state, 'bound');
  assert.deepEqual(r.report.reportData, await v.tlsReportData(nonce, hashes));
  // Another nonce, or the keys swapped, must not match.
  const wrong = await v.checkAttestation({ ...att, key_sha256: [hashes[1], hashes[0]].map(v.toHex) }, nonce);
  assert.equal(wrong.binding.state, 'mismatch');
  assert.equal((await v.checkAttestation({ ...att, key_sha256: hashes.map(v.toHex) }, v.newNonce(32))).binding.state, 'mismatch');
  // The page shows the measurement `cinfer measure` computes for this build and config.
  assert.equal(v.toHex(r.report.measurement), cinfer('measure', '--program', path.join(BIN, 'cinferd'), '--config', cfg).trim());
  // Fresh nonce, fresh report.
  const res2 = await get(`${base}/v1/attestation?nonce=${v.toHex(v.newNonce(32))}`);
  assert.equal(v.freshnessFromPair(r, await v.checkAttestation(JSON.parse(res2.body), null)).state, 'changes');
  // /v1/models gives the name and digest the page shows.
  const models = JSON.parse((await get(`${base}/v1/models`)).body).models;
  assert.equal(models[0].name, 'digits');
  assert.equal(models[0].sha256, createHash('sha256').update(fs.readFileSync(path.join(SRC, 'models/digits.onnx'))).digest('hex'));
});

// ---- the static files obey the server's CSP and stay small ---------------------------
test('web files: no inline script or style, no external origins, labelled controls, < 40 KB', () => {
  const dir = path.join(SRC, 'web');
  const files = fs.readdirSync(dir);
  for (const f of ['index.html', 'style.css', 'app.js', 'verify.js']) assert.ok(files.includes(f), f);
  const total = files.reduce((n, f) => n + fs.statSync(path.join(dir, f)).size, 0);
  assert.ok(total < 40 * 1024, `total ${total} bytes`);
  const html = fs.readFileSync(path.join(dir, 'index.html'), 'utf8');
  assert.match(html, /<html lang="en">/);
  assert.match(html, /<noscript>[\s\S]*cinfer attest[\s\S]*<\/noscript>/);
  for (const m of html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)) {
    assert.match(m[1], /\bsrc="[^"]+"/, 'script has src');
    assert.match(m[1], /type="module"/);
    assert.equal(m[2].trim(), '', 'no inline script');
  }
  assert.doesNotMatch(html, /<style|\sstyle=|\son[a-z]+=/i, 'no inline style or handlers');
  for (const f of files) {
    const s = fs.readFileSync(path.join(dir, f), 'utf8');
    assert.doesNotMatch(s, /(src|href|url\()\s*=?\s*["']?(https?:)?\/\//i, `${f}: no external origin`);
    assert.doesNotMatch(s, /innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(|new Function/, `${f}: no HTML injection sinks`);
  }
  for (const m of html.matchAll(/<button\b[^>]*>([\s\S]*?)<\/button>/g))
    assert.notEqual(m[1].replace(/<[^>]+>/g, '').trim(), '', 'button has text');
  for (const m of html.matchAll(/<input\b[^>]*\bid="([^"]+)"/g))
    assert.match(html, new RegExp(`<label[^>]*for="${m[1]}"`), `input ${m[1]} has a label`);
  // Every id the script looks up exists in the page.
  const app = fs.readFileSync(path.join(dir, 'app.js'), 'utf8');
  for (const m of app.matchAll(/\$\('([a-z0-9-]+)'\)/g))
    assert.match(html, new RegExp(`id="${m[1]}"`), `#${m[1]} exists`);
});
