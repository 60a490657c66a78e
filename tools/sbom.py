#!/usr/bin/python3
"""SPDX 2.3 JSON SBOM for the cinferd image, deterministic.

usage: /usr/bin/python3 tools/sbom.py --program BIN --config CFG --version V [--src DIR] [--out FILE]
       /usr/bin/python3 tools/sbom.py --deps SBOM.json        (print package=version lines)

The image is the cinferd binary plus the configuration it is launched with
(both are measured). The document lists:
  - the image package, containing the two files (SHA-1 and SHA-256 each);
  - the cinfer source package: every git-tracked file outside supply/ with its
    SHA-1 and SHA-256, and the SPDX package verification code over them;
  - every Debian package owning a shared library that the binary loads (the
    full `ldd` closure, owners from `dpkg -S`, versions from `dpkg-query`).
    The binary DYNAMIC_LINKs the packages of its own DT_NEEDED libraries; a
    package DEPENDS_ON the packages of the libraries its libraries need.
No npm package is part of the image (npm is used by test tooling only).

Same inputs give the same bytes: sorted lists, created = SOURCE_DATE_EPOCH
(0 when unset), and the document namespace is derived from the content.
"""
import argparse
import hashlib
import json
import os
import re
import subprocess
import sys
import time

NS_BASE = "https://spdx.cinfer.invalid/cinferd/"
EXCLUDED_SRC = "./supply/"   # release artefacts that pin this SBOM's own digest


def die(msg):
    print("sbom: " + msg, file=sys.stderr)
    sys.exit(2)


def digests(path):
    h1, h256 = hashlib.sha1(), hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 16), b""):
            h1.update(block)
            h256.update(block)
    return h1.hexdigest(), h256.hexdigest()


def run(args):
    r = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       env=dict(os.environ, LC_ALL="C"))
    return r.returncode, r.stdout


def needed(path):
    """DT_NEEDED sonames of an ELF file."""
    rc, out = run(["readelf", "-d", "-W", path])
    if rc != 0:
        die("readelf failed on " + path)
    return sorted(set(re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", out)))


def ldd_closure(program):
    """soname -> path for every library the loader maps (vdso excluded)."""
    rc, out = run(["ldd", program])
    if rc != 0:
        die("ldd failed on %s (not a dynamic executable?)" % program)
    libs = {}
    for line in out.splitlines():
        line = line.strip()
        m = re.match(r"(\S+) => (\S+) \(0x", line)
        if m:
            libs[m.group(1)] = m.group(2)
            continue
        if "not found" in line:
            die("unresolved library: " + line)
        m = re.match(r"(/\S+) \(0x", line)     # the dynamic loader
        if m:
            libs[os.path.basename(m.group(1))] = m.group(1)
    return libs


def dpkg_owners(paths):
    """path -> owning Debian package, one dpkg-query call for all (merged-/usr aliases tried)."""
    cands = {}
    for path in paths:
        c = [path, os.path.realpath(path)]
        for q in list(c):
            c.append(q[4:] if q.startswith("/usr/") else "/usr" + q)
        cands[path] = list(dict.fromkeys(c))
    _, out = run(["dpkg-query", "-S"] + sorted({q for c in cands.values() for q in c}))
    owner = {}
    for line in out.splitlines():
        pkg, sep, f = line.partition(": ")
        if sep and "diversion" not in pkg:
            owner.setdefault(f.strip(), pkg.split(",")[0].strip())
    res = {}
    for path, c in cands.items():
        hit = [owner[q] for q in c if q in owner]
        if not hit:
            die("no Debian package owns %s" % path)
        res[path] = hit[0]
    return res


def dpkg_info(pkg):
    fmt = "${Package}\t${Version}\t${Architecture}\t${Maintainer}\t${source:Package}\t${Homepage}"
    rc, out = run(["dpkg-query", "-W", "-f=" + fmt, pkg])
    if rc != 0 or not out:
        die("dpkg-query knows no " + pkg)
    name, ver, arch, maint, src, home = out.split("\t")
    return {"name": name, "version": ver, "arch": arch, "maintainer": maint,
            "source": src, "homepage": home}


def spdx_id(prefix, text):
    return "SPDXRef-%s-%s" % (prefix, re.sub(r"[^A-Za-z0-9.-]", "-", text))


def supplier(maint):
    m = re.match(r"\s*(.*?)\s*<([^>]*)>", maint)
    return "Organization: %s (%s)" % (m.group(1), m.group(2)) if m else "Organization: " + maint


def file_entry(sid, name, path):
    s1, s256 = digests(path)
    return {"SPDXID": sid, "fileName": name,
            "checksums": [{"algorithm": "SHA1", "checksumValue": s1},
                          {"algorithm": "SHA256", "checksumValue": s256}],
            "licenseConcluded": "NOASSERTION", "copyrightText": "NOASSERTION"}, s1, s256


def verification_code(sha1s):
    return hashlib.sha1("".join(sorted(sha1s)).encode()).hexdigest()


def source_files(src):
    rc, out = run(["git", "-C", src, "ls-files", "-z"])
    if rc != 0:
        die("%s is not a git checkout (the source package lists git-tracked files)" % src)
    names = sorted(n for n in out.split("\0") if n)
    res = []
    for n in names:
        name = "./" + n
        if name.startswith(EXCLUDED_SRC):
            continue
        p = os.path.join(src, n)
        if not os.path.isfile(p) or os.path.islink(p):
            continue        # deleted in the work tree, or a symlink (no content)
        res.append((name, p))
    return res


def build(a):
    prog, cfg = os.path.abspath(a.program), os.path.abspath(a.config)
    for p in (prog, cfg):
        if not os.path.isfile(p):
            die("no such file: " + p)
    epoch = int(os.environ.get("SOURCE_DATE_EPOCH", "0") or 0)
    created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))

    files, rels, packages = [], [], []
    img_id, src_id = "SPDXRef-Package-cinferd-image", "SPDXRef-Package-cinfer-source"
    bin_id, cfg_id = "SPDXRef-File-cinferd", "SPDXRef-File-cinferd-config"

    # The image: binary + launch configuration.
    fb, b1, b256 = file_entry(bin_id, "./cinferd", prog)
    fb["fileTypes"] = ["BINARY"]
    fc, c1, c256 = file_entry(cfg_id, "./cinferd.json", cfg)
    fc["fileTypes"] = ["TEXT"]
    files += [fb, fc]
    packages.append({
        "SPDXID": img_id, "name": "cinferd-image", "versionInfo": a.version,
        "primaryPackagePurpose": "APPLICATION", "supplier": "Organization: cinfer",
        "downloadLocation": "NOASSERTION", "filesAnalyzed": True,
        "hasFiles": [bin_id, cfg_id],
        "packageVerificationCode": {"packageVerificationCodeValue": verification_code([b1, c1])},
        "licenseConcluded": "NOASSERTION", "licenseDeclared": "NOASSERTION",
        "copyrightText": "NOASSERTION",
        "comment": "cinferd and the configuration it is launched with; both are measured "
                   "(cinfer measure --program cinferd --config cinferd.json)"})

    # The sources it was built from.
    src_sha1, src_files = [], []
    for name, p in source_files(a.src):
        sid = "SPDXRef-File-src-" + hashlib.sha256(name.encode()).hexdigest()[:20]
        fe, s1, _ = file_entry(sid, name, p)
        fe["fileTypes"] = ["SOURCE"]
        src_sha1.append(s1)
        src_files.append(fe)
    files += src_files
    packages.append({
        "SPDXID": src_id, "name": "cinfer", "versionInfo": a.version,
        "primaryPackagePurpose": "SOURCE", "supplier": "Organization: cinfer",
        "downloadLocation": "NOASSERTION", "filesAnalyzed": True,
        "hasFiles": [f["SPDXID"] for f in src_files],
        "packageVerificationCode": {
            "packageVerificationCodeValue": verification_code(src_sha1),
            "packageVerificationCodeExcludedFiles": [EXCLUDED_SRC]},
        "licenseConcluded": "NOASSERTION", "licenseDeclared": "NOASSERTION",
        "copyrightText": "NOASSERTION",
        "comment": "git-tracked files except supply/ (release artefacts that pin this SBOM)"})

    # Debian packages of the shared libraries.
    libs = ldd_closure(prog)
    by_path = dpkg_owners(sorted(set(libs.values())))
    owner = {so: by_path[p] for so, p in libs.items()}
    pkgs = {}
    for o in sorted(set(owner.values())):
        base = o.split(":")[0]
        info = dpkg_info(o)
        pkgs[base] = info
        p = {"SPDXID": spdx_id("Package-deb", base), "name": base, "versionInfo": info["version"],
             "primaryPackagePurpose": "LIBRARY", "supplier": supplier(info["maintainer"]),
             "downloadLocation": "NOASSERTION", "filesAnalyzed": False,
             "licenseConcluded": "NOASSERTION", "licenseDeclared": "NOASSERTION",
             "copyrightText": "NOASSERTION",
             "externalRefs": [{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl",
                               "referenceLocator": "pkg:deb/debian/%s@%s?arch=%s%s" % (
                                   base, info["version"].replace("+", "%2B").replace(":", "%3A"),
                                   info["arch"],
                                   "&upstream=" + info["source"] if info["source"] != base else "")}],
             "sourceInfo": "Debian source package %s" % info["source"]}
        if info["homepage"]:
            p["homepage"] = info["homepage"]
        libnames = sorted(so for so, ow in owner.items() if ow.split(":")[0] == base)
        p["comment"] = "provides " + ", ".join(libnames)
        packages.append(p)

    def pid(so):
        return spdx_id("Package-deb", owner[so].split(":")[0])

    rels.append(("SPDXRef-DOCUMENT", "DESCRIBES", img_id))
    rels.append((bin_id, "GENERATED_FROM", src_id))
    for so in needed(prog):
        if so not in owner:
            die("%s is needed but ldd did not resolve it" % so)
        rels.append((bin_id, "DYNAMIC_LINK", pid(so)))
    for so, path in libs.items():
        for dep in needed(path):
            if dep in owner and pid(dep) != pid(so):
                rels.append((pid(so), "DEPENDS_ON", pid(dep)))

    packages.sort(key=lambda p: p["SPDXID"])
    files.sort(key=lambda f: f["SPDXID"])
    relationships = [{"spdxElementId": x, "relationshipType": t, "relatedSpdxElement": y}
                     for x, t, y in sorted(set(rels))]

    # Namespace: a digest of everything the document states.
    ns = hashlib.sha256()
    ns.update(json.dumps([a.version, created, packages, files, relationships],
                         sort_keys=True).encode())
    doc = {
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": "cinferd-image-" + a.version,
        "documentNamespace": NS_BASE + a.version + "-" + ns.hexdigest(),
        "creationInfo": {
            "created": created,
            "creators": ["Tool: cinfer-sbom-1", "Organization: cinfer"],
            "comment": "runtime image = cinferd + its launch configuration; no npm packages "
                       "are part of it (npm serves test tooling only)"},
        "documentDescribes": [img_id],
        "packages": packages,
        "files": files,
        "relationships": relationships,
    }
    text = json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=True) + "\n"
    if a.out:
        tmp = a.out + ".tmp.%d" % os.getpid()
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, a.out)
    else:
        sys.stdout.write(text)


def deps(path):
    """The dependency list the CI gate compares: Debian package=version."""
    try:
        with open(path) as f:
            doc = json.load(f)
    except (OSError, ValueError) as ex:
        die("%s: %s" % (path, ex))
    lines = []
    for p in doc.get("packages", []):
        for r in p.get("externalRefs", []):
            if r.get("referenceType") == "purl" and r["referenceLocator"].startswith("pkg:deb/"):
                lines.append("%s=%s" % (p["name"], p["versionInfo"]))
    for line in sorted(set(lines)):
        print(line)


def main():
    ap = argparse.ArgumentParser(description="SPDX 2.3 SBOM of the cinferd image")
    ap.add_argument("--program")
    ap.add_argument("--config")
    ap.add_argument("--version")
    ap.add_argument("--src", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    ap.add_argument("--out")
    ap.add_argument("--deps", metavar="SBOM", help="print the Debian package=version lines of SBOM")
    a = ap.parse_args()
    if a.deps:
        return deps(a.deps)
    if not (a.program and a.config and a.version):
        die("give --program, --config and --version (or --deps SBOM)")
    a.src = os.path.abspath(a.src)
    build(a)


if __name__ == "__main__":
    main()
