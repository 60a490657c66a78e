// cinfer trust page: fetches evidence from this server, checks what a browser
// can (web/verify.js), and says plainly what it cannot. Server data is shown
// with textContent only.
import { checkAttestation, freshnessFromPair, newNonce, toHex } from './verify.js';

const $ = (id) => document.getElementById(id);
const PLATFORMS = { sim: 'Simulated (no TEE)', snp: 'AMD SEV-SNP', tdx: 'Intel TDX', nitro: 'AWS Nitro Enclaves', cca: 'Arm CCA' };

function show(id, text, cls) {
  const el = $(id);
  el.textContent = text;
  el.classList.remove('ok', 'bad', 'warn');
  if (cls) el.classList.add(cls);
}

async function getJson(url) {
  const res = await fetch(url, { cache: 'no-store', credentials: 'same-origin' });
  if (!res.ok) throw new Error(`${url.split('?')[0]} answered HTTP ${res.status}`);
  return res.json();
}

async function attest() {
  const nonce = newNonce(32);
  const att = await getJson(`/v1/attestation?nonce=${toHex(nonce)}`);
  return checkAttestation(att, nonce);
}

function renderModels(list) {
  const el = $('models');
  el.replaceChildren();
  if (!Array.isArray(list) || list.length === 0) {
    el.textContent = 'none loaded yet';
    return;
  }
  for (const m of list.slice(0, 8)) {
    const line = document.createElement('div');
    const name = document.createElement('strong');
    name.textContent = String(m?.name ?? '?');
    const digest = document.createElement('span');
    digest.className = 'hex';
    digest.textContent = ` sha256 ${String(m?.sha256 ?? '?')}`;
    line.append(name, digest);
    el.append(line);
  }
}

const FACTS = ['platform', 'measurement', 'debug', 'vmpl', 'version', 'chip-cert', 'signature', 'freshness', 'binding', 'report-data', 'models'];

function render(a, fresh) {
  const rep = a.report;
  // Fields read from a report whose signature failed are shown, but marked.
  const sig = a.signature.ok;
  const mark = sig ? '' : ' (from an UNVERIFIED report)';
  $('sim-banner').hidden = !a.simulated;
  $('debug-banner').hidden = !(rep && rep.debug);
  show('platform', a.simulated ? 'SIMULATED: no hardware protection' : (PLATFORMS[a.platform] ?? a.platform), a.simulated ? 'bad' : null);
  show('measurement', rep ? toHex(rep.measurement) + mark : 'not read (see signature)', sig ? null : 'warn');
  show('debug', rep ? (rep.debug ? 'ON: the host can read this enclave\'s memory' : 'off') + mark : '?', rep?.debug ? 'bad' : sig ? 'ok' : 'warn');
  show('vmpl', rep ? String(rep.vmpl) + mark : '?', sig ? null : 'warn');
  show('version', rep ? `SEV-SNP layout v${rep.version}, signed by the ${rep.signingKey}` + mark : '?');
  show('chip-cert', a.chipCert ? `${a.chipCert.subjectCN || '(no name)'}, issued by ${a.chipCert.issuerCN || '(no name)'}; SHA-256 ${a.chipCert.sha256}` : 'none verified', a.chipCert ? null : 'warn');
  show('signature', a.signature.ok ? 'valid: the report is signed by the chip key in that certificate' : `not verified: ${a.signature.reason}`, a.signature.ok ? 'ok' : 'bad');
  show('freshness', fresh.reason, fresh.state === 'changes' ? 'ok' : fresh.state === 'replayed' ? 'bad' : 'warn');
  const b = a.binding;
  show('binding', b.state === 'unchecked' ? 'not checked: the server does not name its key digests, and the page cannot see its TLS key' : b.reason,
    b.state === 'bound' ? 'ok' : b.state === 'mismatch' ? 'bad' : null);
  show('report-data', rep ? toHex(rep.reportData) : '?');
  const good = a.signature.ok && fresh.state === 'changes' && b.state !== 'mismatch' && !(rep && rep.debug);
  if (a.simulated && good) show('verdict', 'The browser checks pass, but this server is SIMULATED: nothing here is protected by hardware.', 'bad');
  else if (good) show('verdict', 'The browser checks pass. Run the command below for the full check before you trust this server.', 'ok');
  else show('verdict', 'The browser checks FAILED. Do not send private data to this server.', 'bad');
  $('cli-cmd').textContent = `cinfer attest ${location.origin} --policy POLICY.json${a.simulated ? ' --sim DIR' : ''}`;
}

async function run() {
  const btn = $('verify-btn');
  btn.disabled = true;
  show('live', 'Checking the server\'s evidence…');
  try {
    const a = await attest();
    const b = await attest();
    render(a, freshnessFromPair(a, b));
    try { renderModels((await getJson('/v1/models')).models); } catch (err) { show('models', `unavailable: ${err.message}`, 'warn'); }
    show('live', `Checked at ${new Date().toLocaleTimeString()} with fresh nonces.`);
  } catch (err) {
    for (const id of FACTS) show(id, 'not available');
    show('verdict', 'Could not get evidence from the server. Do not send private data to it.', 'bad');
    show('live', `Error: ${err.message}`);
  } finally {
    btn.disabled = false;
  }
}

$('status').hidden = false;
$('cli-cmd').textContent = `cinfer attest ${location.origin} --policy POLICY.json`;
$('verify-btn').addEventListener('click', run);
run();
