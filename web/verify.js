// cinfer trust page: what a browser can check about a server's evidence.
// Pure functions, no DOM: the same module runs in the browser and in Node 20
// (tests/web/verify.test.mjs). Every byte comes from the server, so every
// read is bounds-checked and every failure is a VerifyError with a reason.

export class VerifyError extends Error {
  constructor(msg) { super(msg); this.name = 'VerifyError'; }
}

const fail = (msg) => { throw new VerifyError(msg); };
const subtle = () => globalThis.crypto?.subtle ?? fail('this browser has no WebCrypto (needs HTTPS)');

// ---- bytes ------------------------------------------------------------------
export function toHex(u8) {
  let s = '';
  for (const b of u8) s += b.toString(16).padStart(2, '0');
  return s;
}

export function fromHex(s) {
  if (typeof s !== 'string' || s.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(s)) fail('not hex');
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.substr(i * 2, 2), 16);
  return out;
}

export function fromBase64(s) {
  if (typeof s !== 'string') fail('base64 field is not a string');
  let bin;
  try { bin = atob(s.replace(/\s+/g, '')); } catch { fail('bad base64'); }
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

export function toBase64(u8) {
  let bin = '';
  for (const b of u8) bin += String.fromCharCode(b);
  return btoa(bin);
}

function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

const u32le = (b, o) => (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;
const u64le = (b, o) => (BigInt(u32le(b, o + 4)) << 32n) | BigInt(u32le(b, o));

export async function sha256(u8) { return new Uint8Array(await subtle().digest('SHA-256', u8)); }

// ---- DER (only what a certificate's SPKI, names and extensions need) ---------
// Reads one TLV at off, within [off, end). Definite lengths only, low tags only.
export function derRead(buf, off, end = buf.length) {
  if (!(buf instanceof Uint8Array) || off < 0 || end > buf.length || off + 2 > end) fail('DER: truncated header');
  const tag = buf[off];
  if ((tag & 0x1f) === 0x1f) fail('DER: high tag numbers are not used here');
  let len = buf[off + 1], hdr = 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4) fail('DER: bad length form');
    if (off + 2 + n > end) fail('DER: truncated length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[off + 2 + i];
    if (len < 0x80 || (n > 1 && buf[off + 2] === 0)) fail('DER: length not minimal');
    hdr += n;
  }
  const start = off + hdr;
  if (len > end - start) fail('DER: value runs past its container');
  return { tag, start, end: start + len, next: start + len, tlvStart: off };
}

function derChildren(buf, tlv) {
  const out = [];
  for (let o = tlv.start; o < tlv.end; o = out[out.length - 1].next) {
    out.push(derRead(buf, o, tlv.end));
    if (out.length > 64) fail('DER: too many elements');
  }
  return out;
}

function expect(t, tag, what) {
  if (!t || t.tag !== tag) fail(`certificate: ${what} missing`);
  return t;
}

export function oidToString(u8) {
  if (u8.length === 0 || u8.length > 64) fail('DER: bad OID');
  const arcs = [];
  let v = 0n;
  for (let i = 0; i < u8.length; i++) {
    v = (v << 7n) | BigInt(u8[i] & 0x7f);
    if (!(u8[i] & 0x80)) { arcs.push(v); v = 0n; } else if (i === u8.length - 1) fail('DER: bad OID');
  }
  const first = arcs[0] < 80n ? arcs[0] / 40n : 2n;
  arcs.splice(0, 1, first, arcs[0] - first * 40n);
  return arcs.join('.');
}

const OID_EC = '1.2.840.10045.2.1';
const CURVES = { '1.3.132.0.34': 'P-384', '1.2.840.10045.3.1.7': 'P-256', '1.3.132.0.35': 'P-521' };
const OID_CN = '2.5.4.3';

function commonName(buf, name) {
  for (const rdn of derChildren(buf, name)) {
    for (const atv of derChildren(buf, rdn)) {
      const [oid, val] = derChildren(buf, expect(atv, 0x30, 'name attribute'));
      if (oid?.tag === 0x06 && oidToString(buf.subarray(oid.start, oid.end)) === OID_CN && val)
        return new TextDecoder('utf-8', { fatal: false }).decode(buf.subarray(val.start, val.end));
    }
  }
  return '';
}

// Parses an X.509 certificate (DER) far enough to name it and find its key.
export function parseCert(der) {
  const cert = derRead(der, 0);
  if (cert.tag !== 0x30 || cert.end !== der.length) fail('certificate: not one DER SEQUENCE');
  const [tbsT] = derChildren(der, cert);
  const tbs = derChildren(der, expect(tbsT, 0x30, 'TBSCertificate'));
  let i = tbs[0]?.tag === 0xa0 ? 1 : 0;		// [0] version
  expect(tbs[i++], 0x02, 'serial');
  expect(tbs[i++], 0x30, 'signature algorithm');
  const issuer = expect(tbs[i++], 0x30, 'issuer');
  expect(tbs[i++], 0x30, 'validity');
  const subject = expect(tbs[i++], 0x30, 'subject');
  const spkiT = expect(tbs[i++], 0x30, 'subject public key');
  const extensions = new Map();
  for (; i < tbs.length; i++) {
    if (tbs[i].tag !== 0xa3) continue;
    const [seq] = derChildren(der, tbs[i]);
    for (const ext of derChildren(der, expect(seq, 0x30, 'extensions'))) {
      const parts = derChildren(der, expect(ext, 0x30, 'extension'));
      const oid = expect(parts[0], 0x06, 'extension id');
      const val = expect(parts[parts.length - 1], 0x04, 'extension value');
      extensions.set(oidToString(der.subarray(oid.start, oid.end)), der.slice(val.start, val.end));
    }
  }
  const spki = der.slice(spkiT.tlvStart, spkiT.end);
  return { subjectCN: commonName(der, subject), issuerCN: commonName(der, issuer), spki,
    curve: spkiCurve(spki), extensions };
}

// 'P-384' etc. for an EC SubjectPublicKeyInfo, null for any other key type.
export function spkiCurve(spki) {
  const top = derRead(spki, 0);
  if (top.tag !== 0x30 || top.end !== spki.length) fail('SPKI: not one SEQUENCE');
  const [alg, bits] = derChildren(spki, top);
  expect(bits, 0x03, 'public key bits');
  const [oid, param] = derChildren(spki, expect(alg, 0x30, 'key algorithm'));
  expect(oid, 0x06, 'key algorithm id');
  if (oidToString(spki.subarray(oid.start, oid.end)) !== OID_EC) return null;
  if (!param || param.tag !== 0x06) return null;
  return CURVES[oidToString(spki.subarray(param.start, param.end))] ?? null;
}

// A certs[] entry is DER or PEM (one or more certificates).
const latin1 = (u8) => { let s = ''; for (const b of u8) s += String.fromCharCode(b); return s; };

export function certsFromBlob(u8) {
  if (!latin1(u8.subarray(0, 64)).includes('-----BEGIN')) return [u8];
  const text = latin1(u8);
  const out = [];
  const re = /-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]+?)-----END CERTIFICATE-----/g;
  for (let m; (m = re.exec(text)) !== null;) {
    out.push(fromBase64(m[1]));
    if (out.length > 16) fail('PEM: too many certificates');
  }
  if (out.length === 0) fail('PEM: no certificate');
  return out;
}

// ---- SEV-SNP report (also the simulated platform's layout) ---------------------
export const SNP_REPORT_SIZE = 0x4a0;
export const SNP_SIGNED_SIZE = 0x2a0;
const SIG_COMP = 72;
export const POLICY_DEBUG = 1n << 19n;
const KEY_NAMES = ['VCEK', 'VLEK', 'reserved', 'reserved', 'reserved', 'reserved', 'reserved', 'none'];

export function parseSnpReport(u8) {
  if (!(u8 instanceof Uint8Array) || u8.length !== SNP_REPORT_SIZE)
    fail(`report is ${u8?.length ?? 0} bytes, not ${SNP_REPORT_SIZE}`);
  const version = u32le(u8, 0);
  if (version < 2 || version > 5) fail(`report version ${version} is not known here`);
  const policy = u64le(u8, 0x08);
  const keyInfo = u32le(u8, 0x48);
  return {
    version,
    guestSvn: u32le(u8, 0x04),
    policy,
    debug: (policy & POLICY_DEBUG) !== 0n,
    vmpl: u32le(u8, 0x30),
    sigAlgo: u32le(u8, 0x34),
    signingKey: KEY_NAMES[(keyInfo >> 2) & 7],
    reportData: u8.slice(0x50, 0x90),
    measurement: u8.slice(0x90, 0xc0),
    hostData: u8.slice(0xc0, 0xe0),
    reportedTcb: u64le(u8, 0x180),
    chipId: u8.slice(0x1a0, 0x1e0),
    sigR: u8.slice(0x2a0, 0x2a0 + SIG_COMP),
    sigS: u8.slice(0x2e8, 0x2e8 + SIG_COMP),
    signed: u8.slice(0, SNP_SIGNED_SIZE),
  };
}

// True when the report's signature verifies under this P-384 SPKI.
export async function verifySnpSignature(rep, spki) {
  if (rep.sigAlgo !== 1) return false;			// 1 = ECDSA P-384 with SHA-384
  for (let i = 48; i < SIG_COMP; i++) if (rep.sigR[i] || rep.sigS[i]) return false;
  const be = (x) => x.slice(0, 48).reverse();
  let key;
  try {
    key = await subtle().importKey('spki', spki, { name: 'ECDSA', namedCurve: 'P-384' }, false, ['verify']);
  } catch { return false; }
  return subtle().verify({ name: 'ECDSA', hash: 'SHA-384' }, key, concat(be(rep.sigR), be(rep.sigS)), rep.signed);
}

// ---- SNP certificate table (extended report), GUIDs in RFC 4122 byte order ------
const GUID_KIND = { '63da758de6644564adc5f4b93be8accd': 'VCEK', 'a8074bc2a25a483eaae639c045a0b8a1': 'VLEK' };

export function certTableChipCerts(u8) {
  const out = [];
  for (let o = 0; ; o += 24) {
    if (o + 24 > u8.length) fail('certificate table: no terminator');
    if (o / 24 > 16) fail('certificate table: too many entries');
    const guid = toHex(u8.subarray(o, o + 16));
    if (/^0+$/.test(guid)) return out;
    const off = u32le(u8, o + 16), len = u32le(u8, o + 20);
    if (off > u8.length || len > u8.length - off) fail('certificate table: entry out of bounds');
    if (GUID_KIND[guid]) out.push({ kind: GUID_KIND[guid], der: u8.slice(off, off + len) });
  }
}

// ---- binding ----------------------------------------------------------------
// report_data = SHA-512("cinfer tls v1" || 0x00 || be32(len(nonce)) || nonce ||
//                       SHA-256(SPKI tls) || SHA-256(SPKI receipt))
export async function tlsReportData(nonce, keyHashes) {
  const ctx = new TextEncoder().encode('cinfer tls v1');
  const n = nonce.length;
  const len = new Uint8Array([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]);
  return new Uint8Array(await subtle().digest('SHA-512', concat(ctx, new Uint8Array([0]), len, nonce, ...keyHashes)));
}

export function newNonce(size = 32) {
  return globalThis.crypto.getRandomValues(new Uint8Array(size));
}

const eq = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);

// ---- the whole browser check ------------------------------------------------------
// att: the JSON of GET /v1/attestation?nonce=; nonce: the bytes the page sent.
// Returns facts and per-check results; never throws on bad evidence (the
// reason lands in result.error), only on programming errors.
export async function checkAttestation(att, nonce) {
  const r = { platform: '?', simulated: false, report: null, signature: { ok: false, reason: '' },
    chipCert: null, binding: { state: 'unchecked', reason: '' }, error: '' };
  try {
    const ev = att?.evidence;
    if (!ev || typeof ev.platform !== 'string') fail('the answer carries no evidence');
    r.platform = ev.platform;
    r.simulated = ev.platform === 'sim';
    if (ev.platform !== 'sim' && ev.platform !== 'snp') {
      r.signature.reason = `the browser checks SEV-SNP-shaped reports only; check ${ev.platform} evidence with the cinfer CLI`;
      return r;
    }
    const rep = parseSnpReport(fromBase64(ev.evidence));
    r.report = rep;
    if (rep.signingKey !== 'VCEK' && rep.signingKey !== 'VLEK') fail(`the report names no chip signing key (${rep.signingKey})`);
    const cands = [];
    for (const c of Array.isArray(ev.certs) ? ev.certs.slice(0, 16) : []) {
      try { cands.push(...certsFromBlob(fromBase64(c))); } catch (err) { if (!(err instanceof VerifyError)) throw err; }
    }
    for (const c of Array.isArray(ev.collateral) ? ev.collateral.slice(0, 16) : [])
      if (c?.name === 'cert_table') for (const t of certTableChipCerts(fromBase64(c.data))) cands.push(t.der);
    let sawKey = false;
    for (const der of cands) {
      let cert;
      try { cert = parseCert(der); } catch { continue; }
      if (cert.curve !== 'P-384') continue;
      sawKey = true;
      if (await verifySnpSignature(rep, cert.spki)) {
        r.signature.ok = true;
        r.chipCert = { subjectCN: cert.subjectCN, issuerCN: cert.issuerCN, sha256: toHex(await sha256(der)) };
        break;
      }
    }
    if (!r.signature.ok)
      r.signature.reason = sawKey ? 'the report signature does not verify under the chip certificate'
        : 'the evidence carries no P-384 chip certificate';
    if (nonce && Array.isArray(att.key_sha256) && att.key_sha256.length === 2) {
      const hashes = att.key_sha256.map(fromHex);
      if (!hashes.every((h) => h.length === 32)) fail('key_sha256 entries are not SHA-256 digests');
      const want = await tlsReportData(nonce, hashes);
      r.binding = eq(want, rep.reportData) ? { state: 'bound', reason: 'report_data = SHA-512(context, your nonce, the two key digests the server named)' }
        : { state: 'mismatch', reason: 'report_data does not bind your nonce and the keys the server named' };
    }
  } catch (err) {
    if (!(err instanceof VerifyError)) throw err;
    r.error = err.message;
    r.signature.ok = false;
    r.signature.reason ||= err.message;
  }
  return r;
}

// Freshness without the keys: two nonces must give two different signed reports.
export function freshnessFromPair(a, b) {
  if (!a?.signature.ok || !b?.signature.ok) return { state: 'unchecked', reason: 'needs two verified reports' };
  if (eq(a.report.reportData, b.report.reportData)) return { state: 'replayed', reason: 'two different nonces gave the same report_data: the report is not fresh' };
  return { state: 'changes', reason: 'report_data changed with a fresh nonce, and both reports are signed' };
}
