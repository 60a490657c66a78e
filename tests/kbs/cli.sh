#!/usr/bin/env bash
# cinfer-kbs as a program: --help, config file, bad settings, --dev's first lines.
set -euo pipefail
KBS="$CINFER_BIN/cinfer-kbs"
work=$(mktemp -d /tmp/cinfer-kbs-cli-XXXXXX)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$KBS" --help | grep -q -- '--listen ADDR:PORT' || fail "--help lacks --listen"
"$KBS" --version | grep -q '^cinfer-kbs ' || fail "--version"
if "$KBS" --bogus >/dev/null 2>&1; then fail "unknown flag accepted"; fi
if "$KBS" --nonce-ttl 0 >/dev/null 2>&1; then fail "nonce-ttl 0 accepted"; fi

# A config file with an unknown key names the line.
printf 'listen = 127.0.0.1:0\n# comment\ncolour = blue\n' >"$work/bad.conf"
if "$KBS" --config "$work/bad.conf" >/dev/null 2>"$work/err"; then fail "bad config accepted"; fi
grep -q 'bad.conf:3: unknown setting "colour"' "$work/err" || fail "config error: $(cat "$work/err")"

# audit verify needs --db and says so.
if "$KBS" audit verify >/dev/null 2>&1; then fail "audit verify without --db"; fi

# A good config file; a flag overrides it (port 0 from the flag, not 1 from the file).
printf 'listen = 127.0.0.1:1\ndb = %s/kbs.db\nrate = 5\nlog-json = true\n' "$work" >"$work/good.conf"
"$KBS" --config "$work/good.conf" --listen 127.0.0.1:0 >"$work/out" 2>"$work/log" &
pid=$!
for _ in $(seq 100); do grep -q '^CA certificate:' "$work/out" 2>/dev/null && break; sleep 0.1; done
head -1 "$work/out" | grep -q '^URL: https://127.0.0.1:[0-9]' || fail "first line: $(head -1 "$work/out")"
grep -q '"level"' "$work/log" || fail "log-json not applied: $(head -2 "$work/log")"
grep -q 'admin API is disabled' "$work/log" || fail "no warning about the missing admin token"
[ -f "$work/kbs.db" ] && [ -f "$work/kbs.db.master" ] || fail "store files missing"
[ "$(stat -c %a "$work/kbs.db.master")" = 600 ] || fail "master key not 0600"
kill "$pid"; wait "$pid" || fail "unclean exit"; pid=

# --dev: URL, CA certificate, admin token on its first lines; the store goes away on exit.
"$KBS" --dev --listen 127.0.0.1:0 >"$work/dev" 2>"$work/devlog" &
pid=$!
for _ in $(seq 200); do grep -q '^Policy:' "$work/dev" 2>/dev/null && break; sleep 0.1; done
sed -n 1p "$work/dev" | grep -q '^URL: https://127.0.0.1:' || fail "dev line 1"
sed -n 2p "$work/dev" | grep -q '^CA certificate: /' || fail "dev line 2"
sed -n 3p "$work/dev" | grep -q '^Admin token: .\{20,\}' || fail "dev line 3"
url=$(sed -n 's/^URL: //p' "$work/dev"); ca=$(sed -n 's/^CA certificate: //p' "$work/dev")
tok=$(sed -n 's/^Admin token: //p' "$work/dev")
store=$(sed -n 's/^Store: \([^ ]*\).*/\1/p' "$work/dev")
curl -sf --cacert "$ca" "$url/healthz" | grep -q ok || fail "healthz"
curl -sf --cacert "$ca" -H "Authorization: Bearer $tok" "$url/kbs/v0/admin/policy" |
  grep -q '"allow_simulated": true' || fail "dev policy"
code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$ca" "$url/kbs/v0/admin/policy")
[ "$code" = 401 ] || fail "admin without token: $code"
grep -q "$tok" "$work/devlog" && fail "admin token in the log"
kill "$pid"; wait "$pid" || fail "dev unclean exit"; pid=
[ ! -e "$store" ] || fail "dev store $store left behind"
# Admin by TLS client certificate (--admin-client-ca), no token file at all.
mk() {  # mk NAME CA_PREFIX: a client key+cert signed by CA_PREFIX (or self-signed CA if none)
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj "/CN=$1" -keyout "$work/$1.key" -out "$work/$1.pem" 2>/dev/null
}
mk adminca; mk rogueca
for who in ops:adminca mallory:rogueca; do
  n=${who%%:*}; ca=${who##*:}
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$n" \
    -keyout "$work/$n.key" -out "$work/$n.csr" 2>/dev/null
  openssl x509 -req -in "$work/$n.csr" -CA "$work/$ca.pem" -CAkey "$work/$ca.key" \
    -CAcreateserial -days 2 -out "$work/$n.pem" 2>/dev/null
done
mkdir "$work/mtls"
"$KBS" --listen 127.0.0.1:0 --db "$work/mtls/kbs.db" --admin-client-ca "$work/adminca.pem" \
  >"$work/mout" 2>"$work/mlog" &
pid=$!
for _ in $(seq 100); do grep -q '^CA certificate:' "$work/mout" 2>/dev/null && break; sleep 0.1; done
url=$(sed -n 's/^URL: //p' "$work/mout"); ca=$(sed -n 's/^CA certificate: //p' "$work/mout")
put() { curl -s -o "$work/resp" -w '%{http_code}' --cacert "$ca" "$@" -X PUT \
  --data-binary 'k3y-value' "$url/kbs/v0/admin/resource/a/b/c"; }
[ "$(put --cert "$work/ops.pem" --key "$work/ops.key")" = 200 ] || fail "admin cert refused: $(cat "$work/resp")"
grep -q '"version":1' "$work/resp" || fail "put reply: $(cat "$work/resp")"
[ "$(put)" = 401 ] || fail "no cert accepted"
# Trustee-style registration (POST to the resource path) is an admin put too.
code=$(curl -s -o "$work/resp" -w '%{http_code}' --cacert "$ca" --cert "$work/ops.pem" \
  --key "$work/ops.key" -X POST --data-binary 'v2' "$url/kbs/v0/resource/a/b/c")
[ "$code" = 200 ] && grep -q '"version":2' "$work/resp" || fail "POST registration: $code"
code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$ca" -X POST --data-binary 'x' \
  "$url/kbs/v0/resource/a/b/c")
[ "$code" = 401 ] || fail "anonymous POST registration: $code"
[ "$(put --cert "$work/mallory.pem" --key "$work/mallory.key")" = 401 ] || fail "rogue cert accepted"
# Attesters without certificates still get in.
curl -sf --cacert "$ca" -X POST -d '{"version":"0.1.0","tee":"x"}' "$url/kbs/v0/auth" |
  grep -q nonce || fail "auth without a client certificate"
kill "$pid"; wait "$pid" || fail "mtls unclean exit"; pid=
"$KBS" audit verify --db "$work/mtls/kbs.db" | grep -q 'OK: 2 records' || fail "audit of the cert put"
sqlite3 "$work/mtls/kbs.db" "SELECT client FROM audit" | grep -q 'admin(cert:ops)@127.0.0.1' ||
  fail "audit does not name the certificate"
echo "cli ok"
