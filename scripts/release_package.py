#!/usr/bin/env python3
"""Packages built provider binaries as a Terraform provider release; called by
scripts/release.sh (see there). Standard library only.

For each --package OS_ARCH=BINARY it writes a deterministic zip holding the
binary as terraform-provider-tidbcloud_vVERSION(.exe). Then, over every zip of
VERSION in the output directory (so that a second run with more targets adds
to the release), it writes SHA256SUMS, the manifest, and the filesystem and
network mirror trees.

Hashes: "zh:" is the SHA-256 of the zip; "h1:" is Go's dirhash Hash1 over
the zip's files (what Terraform records in .terraform.lock.hcl): for each file,
sorted by name, the line "<sha256 hex>  <name>\\n"; h1 is the base64 of the
SHA-256 of those lines.
"""
import argparse
import base64
import hashlib
import json
import os
import re
import shutil
import stat
import sys
import time
import zipfile

NAME = "terraform-provider-tidbcloud"


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def h1_of_zip(path):
    lines = []
    with zipfile.ZipFile(path) as z:
        names = sorted(i.filename for i in z.infolist())
        for name in names:
            if "\n" in name:
                raise ValueError(f"{path}: file name with a newline: {name!r}")
            lines.append(f"{hashlib.sha256(z.read(name)).hexdigest()}  {name}\n")
    summary = "".join(lines).encode()
    return "h1:" + base64.b64encode(hashlib.sha256(summary).digest()).decode()


def write_zip(binary, target, member):
    epoch = int(os.environ.get("SOURCE_DATE_EPOCH", "315532800"))  # 1980-01-01
    stamp = time.gmtime(max(epoch, 315532800))[:6]
    info = zipfile.ZipInfo(member, date_time=stamp)
    info.create_system = 3  # Unix, so that the mode below is honoured
    info.external_attr = (stat.S_IFREG | 0o755) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    tmp = target + ".tmp"
    with open(binary, "rb") as f:
        data = f.read()
    with zipfile.ZipFile(tmp, "w") as z:
        z.writestr(info, data)
    os.replace(tmp, target)


def write_json(path, value):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(value, f, indent=2, sort_keys=True)
        f.write("\n")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--version", required=True)
    p.add_argument("--source", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--package", action="append", default=[], help="OS_ARCH=BINARY")
    a = p.parse_args()
    version, out = a.version, a.out
    prefix = f"{NAME}_{version}"
    os.makedirs(out, exist_ok=True)

    for spec in a.package:
        platform, binary = spec.split("=", 1)
        exe = ".exe" if platform.startswith("windows_") else ""
        target = os.path.join(out, f"{prefix}_{platform}.zip")
        write_zip(binary, target, f"{NAME}_v{version}{exe}")
        print(f"  {target}", file=sys.stderr)

    pattern = re.compile(re.escape(prefix) + r"_([a-z0-9]+_[a-z0-9]+)\.zip$")
    zips = {}
    for entry in sorted(os.listdir(out)):
        m = pattern.match(entry)
        if m:
            zips[m.group(1)] = entry
    if not zips:
        sys.exit(f"release: no {prefix}_*.zip in {out}")

    manifest = f"{prefix}_manifest.json"
    write_json(os.path.join(out, manifest), {"version": 1, "metadata": {"protocol_versions": ["6.0"]}})

    sums = {name: sha256_file(os.path.join(out, name)) for name in list(zips.values()) + [manifest]}
    with open(os.path.join(out, f"{prefix}_SHA256SUMS"), "w") as f:
        for name in sorted(sums):
            f.write(f"{sums[name]}  {name}\n")

    host, namespace, typ = a.source.split("/")
    # Filesystem mirror, packed layout: HOSTNAME/NAMESPACE/TYPE/<zip>.
    fs_dir = os.path.join(out, "mirror", "filesystem", host, namespace, typ)
    os.makedirs(fs_dir, exist_ok=True)
    # Network mirror: index.json lists the versions, VERSION.json the
    # archives with their hashes; the zips sit beside them.
    net_dir = os.path.join(out, "mirror", "network", host, namespace, typ)
    os.makedirs(net_dir, exist_ok=True)
    archives = {}
    for platform, name in sorted(zips.items()):
        src = os.path.join(out, name)
        shutil.copyfile(src, os.path.join(fs_dir, name))
        shutil.copyfile(src, os.path.join(net_dir, name))
        archives[platform] = {"url": name, "hashes": [h1_of_zip(src), "zh:" + sums[name]]}
    write_json(os.path.join(net_dir, f"{version}.json"), {"archives": archives})
    versions = sorted(e[: -len(".json")] for e in os.listdir(net_dir) if e.endswith(".json") and e != "index.json")
    write_json(os.path.join(net_dir, "index.json"), {"versions": {v: {} for v in versions}})

    for platform in sorted(archives):
        print(f"  {platform}: {' '.join(archives[platform]['hashes'])}", file=sys.stderr)


if __name__ == "__main__":
    main()
