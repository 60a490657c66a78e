#!/usr/bin/env bash
# tools/sbom.py: the SPDX 2.3 document of the cinferd image is deterministic,
# well-formed, and says what independent tools (sha256sum, sha1sum, git,
# ldd, readelf, dpkg-query) say about the same bytes.
set -euo pipefail
S=${CINFER_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
B=${CINFER_BIN:-build}
PY=/usr/bin/python3
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
fails=0; passes=0
check() { if eval "$2"; then passes=$((passes+1)); else echo "FAIL: $1"; fails=$((fails+1)); fi; }

cp "$S/supply/cinferd.json" "$T/cfg.json"
gen() { SOURCE_DATE_EPOCH=$1 $PY "$S/tools/sbom.py" --program "$B/cinferd" --config "$T/cfg.json" \
  --version "${3:-v9.9.9}" --src "$S" --out "$2"; }
gen 1700000000 "$T/a.json"
gen 1700000000 "$T/b.json"
gen 1800000000 "$T/c.json"
check "same inputs give the same bytes" 'cmp -s "$T/a.json" "$T/b.json"'
check "created comes from SOURCE_DATE_EPOCH" 'grep -q "\"created\": \"2023-11-14T22:13:20Z\"" "$T/a.json"'
ns() { $PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["documentNamespace"])' "$1"; }
check "the namespace follows the content" '[ "$(ns "$T/a.json")" != "$(ns "$T/c.json")" ]'
check "no random UUID in the namespace" '! grep -Eq "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-" <<<"$(ns "$T/a.json")"'

# Structure: SPDX 2.3 required fields, unique ids, closed references.
out=$($PY - "$T/a.json" <<'PY'
import json, re, sys
d = json.load(open(sys.argv[1]))
err = []
for k, v in (("spdxVersion", "SPDX-2.3"), ("dataLicense", "CC0-1.0"), ("SPDXID", "SPDXRef-DOCUMENT")):
    if d.get(k) != v: err.append("%s is %r" % (k, d.get(k)))
if not re.fullmatch(r"https://[^#\s]+", d["documentNamespace"]): err.append("namespace not a URI")
if not d["creationInfo"]["creators"]: err.append("no creators")
ids = [x["SPDXID"] for x in d["packages"] + d["files"]] + ["SPDXRef-DOCUMENT"]
if len(ids) != len(set(ids)): err.append("duplicate SPDXIDs")
for i in ids:
    if not re.fullmatch(r"SPDXRef-[A-Za-z0-9.-]+", i): err.append("bad id " + i)
for r in d["relationships"]:
    for k in ("spdxElementId", "relatedSpdxElement"):
        if r[k] not in ids: err.append("dangling " + r[k])
for p in d["packages"]:
    for k in ("name", "downloadLocation", "filesAnalyzed", "copyrightText", "licenseConcluded"):
        if k not in p: err.append("%s lacks %s" % (p["SPDXID"], k))
    if p["filesAnalyzed"]:
        if not re.fullmatch(r"[0-9a-f]{40}", p["packageVerificationCode"]["packageVerificationCodeValue"]):
            err.append(p["SPDXID"] + " verification code")
        for f in p["hasFiles"]:
            if f not in ids: err.append("hasFiles dangling " + f)
for f in d["files"]:
    if "SHA1" not in {c["algorithm"] for c in f["checksums"]}: err.append(f["fileName"] + " lacks SHA1")
if any(r["referenceLocator"].startswith("pkg:npm/") for p in d["packages"] for r in p.get("externalRefs", [])):
    err.append("npm package in the image")
print("\n".join(err) if err else "ok")
PY
)
check "well-formed SPDX 2.3 ($out)" '[ "$out" = ok ]'

# The image files by digest, the source package by its verification code.
jq() { $PY -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"; }
sha=$(sha256sum "$B/cinferd" | cut -d' ' -f1)
got=$(jq "$T/a.json" '[c["checksumValue"] for f in d["files"] if f["fileName"]=="./cinferd" for c in f["checksums"] if c["algorithm"]=="SHA256"][0]')
check "cinferd sha256 matches sha256sum" '[ "$got" = "$sha" ]'
vc=$(cd "$S" && git ls-files -z | grep -zv '^supply/' | while IFS= read -r -d '' f; do
  [ -f "$f" ] && [ ! -L "$f" ] && sha1sum "$f" | cut -d' ' -f1; done | sort | tr -d '\n' | sha1sum | cut -d' ' -f1)
got=$(jq "$T/a.json" '[p["packageVerificationCode"]["packageVerificationCodeValue"] for p in d["packages"] if p["name"]=="cinfer"][0]')
check "source verification code matches git ls-files + sha1sum ($vc)" '[ "$got" = "$vc" ]'
nsrc=$(cd "$S" && git ls-files -z | grep -zv '^supply/' | while IFS= read -r -d '' f; do
  [ -f "$f" ] && [ ! -L "$f" ] && echo; done | wc -l)
got=$(jq "$T/a.json" 'len([p for p in d["packages"] if p["name"]=="cinfer"][0]["hasFiles"])')
check "source package lists each tracked file ($got of $nsrc)" '[ "$got" -eq "$nsrc" ]'

# The Debian packages: independently from ldd + dpkg-query.
for lib in $(ldd "$B/cinferd" | awk '/=> \//{print $3} /^[ \t]*\/[^ ]+ \(0x/{print $1}'); do
  for p in "$lib" "$(readlink -f "$lib")" "/usr$lib" "${lib#/usr}"; do
    o=$(dpkg-query -S "$p" 2>/dev/null | head -1 | cut -d: -f1) && [ -n "$o" ] && break
  done
  echo "$o=$(dpkg-query -W -f='${Version}' "$o")"
done | sort -u >"$T/want-deps"
$PY "$S/tools/sbom.py" --deps "$T/a.json" >"$T/got-deps"
check "dependency list = ldd closure owners with dpkg versions" 'diff -u "$T/want-deps" "$T/got-deps"'
check "libc6 and libssl3 are listed" 'grep -q "^libc6=" "$T/got-deps" && grep -q "^libssl3=" "$T/got-deps"'
direct=$(jq "$T/a.json" '" ".join(sorted(r["relatedSpdxElement"] for r in d["relationships"] if r["relationshipType"]=="DYNAMIC_LINK"))')
check "cinferd DYNAMIC_LINKs libssl3 and libjansson4" 'grep -q Package-deb-libssl3 <<<"$direct" && grep -q Package-deb-libjansson4 <<<"$direct"'
n_needed=$(readelf -d "$B/cinferd" | grep -c NEEDED)
check "every package is tied to the binary or a library ($n_needed NEEDED)" "$(jq "$T/a.json" '"true" if {p["SPDXID"] for p in d["packages"] if p["primaryPackagePurpose"]=="LIBRARY"} <= {r["relatedSpdxElement"] for r in d["relationships"] if r["relationshipType"] in ("DYNAMIC_LINK","DEPENDS_ON")} else "false"')"

# A different launch configuration: different file digest, same dependencies.
printf '{"listen": "0.0.0.0:9443"}\n' >"$T/cfg.json"
gen 1700000000 "$T/d.json"
check "config change changes the document" '! cmp -s "$T/a.json" "$T/d.json"'
check "config change keeps the dependency list" '[ "$($PY "$S/tools/sbom.py" --deps "$T/d.json")" = "$(cat "$T/got-deps")" ]'
rc=0; $PY "$S/tools/sbom.py" --program "$T/none" --config "$T/cfg.json" --version x >/dev/null 2>&1 || rc=$?
check "missing program is an error (exit $rc)" '[ $rc -eq 2 ]'
rc=0; $PY "$S/tools/sbom.py" --program "$T/cfg.json" --config "$T/cfg.json" --version x >/dev/null 2>&1 || rc=$?
check "a non-ELF program is an error (exit $rc)" '[ $rc -eq 2 ]'

echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
