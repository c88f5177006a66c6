#!/usr/bin/env bash
# Builds the release artifacts of terraform-provider-tidbcloud into dist/, in
# the layout the Terraform Registry and the provider mirror protocols expect.
#
#   scripts/release.sh [options] VERSION [TARGET_TRIPLE...]
#
# VERSION is a semantic version without a leading "v" (0.1.0, 1.2.0-rc.1).
# TARGET_TRIPLEs are Rust targets (x86_64-unknown-linux-gnu, aarch64-apple-darwin,
# ...); the default is this machine's. Each needs its toolchain installed
# (`rustup target add TRIPLE`, plus a linker for it).
#
# Options:
#   --source ADDRESS   provider source address HOSTNAME/NAMESPACE/tidbcloud
#                      (default terraform.local/tidbcloud/tidbcloud). Never
#                      tidbcloud/tidbcloud: that is the official provider's.
#   --profile NAME     cargo profile to build with (default release, or $CARGO_PROFILE)
#   --binary PATH      package this already-built binary for the host target
#                      instead of building one
#   --out DIR          output directory (default dist)
#
# Environment: GPG_FINGERPRINT names a key in the keyring to sign SHA256SUMS
# with (a detached binary signature, as the Registry expects); SOURCE_DATE_EPOCH
# fixes the timestamps inside the zips (default 1980-01-01, so that the same
# binary always gives the same zip).
#
# Output, for VERSION and each os_arch:
#   terraform-provider-tidbcloud_VERSION_OS_ARCH.zip   the binary terraform-provider-tidbcloud_vVERSION
#   terraform-provider-tidbcloud_VERSION_SHA256SUMS    (and .sig with GPG_FINGERPRINT)
#   terraform-provider-tidbcloud_VERSION_manifest.json protocol_versions ["6.0"]
#   mirror/filesystem/HOSTNAME/NAMESPACE/tidbcloud/...  a filesystem_mirror tree (packed layout)
#   mirror/network/HOSTNAME/NAMESPACE/tidbcloud/...     a network_mirror tree: index.json, VERSION.json, zips
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }
die() { echo "release: $*" >&2; exit 1; }

source_address=terraform.local/tidbcloud/tidbcloud
profile=${CARGO_PROFILE:-release}
binary=
out=dist
args=()
while (($#)); do
  case $1 in
    --source) source_address=${2:?--source needs an address}; shift 2 ;;
    --source=*) source_address=${1#*=}; shift ;;
    --profile) profile=${2:?--profile needs a name}; shift 2 ;;
    --profile=*) profile=${1#*=}; shift ;;
    --binary) binary=${2:?--binary needs a path}; shift 2 ;;
    --binary=*) binary=${1#*=}; shift ;;
    --out) out=${2:?--out needs a directory}; shift 2 ;;
    --out=*) out=${1#*=}; shift ;;
    -h|--help) usage; exit 0 ;;
    -*) die "unknown option $1 (see --help)" ;;
    *) args+=("$1"); shift ;;
  esac
done
((${#args[@]} >= 1)) || { usage >&2; exit 2; }
version=${args[0]}
targets=("${args[@]:1}")

semver='^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$'
[[ $version =~ $semver ]] || die "VERSION must be a semantic version such as 0.1.0 or 1.0.0-rc.1 (no leading v), got '$version'"

# The source address: HOSTNAME/NAMESPACE/TYPE, all lower case.
IFS=/ read -r -a parts <<<"$source_address"
if ((${#parts[@]} == 2)); then
  parts=(registry.terraform.io "${parts[@]}")
fi
((${#parts[@]} == 3)) || die "--source must be HOSTNAME/NAMESPACE/TYPE, got '$source_address'"
host=${parts[0],,} namespace=${parts[1],,} type=${parts[2],,}
[[ $type == tidbcloud ]] || die "the provider type must be 'tidbcloud' (the binary is terraform-provider-tidbcloud), got '$type'"
if [[ $host == registry.terraform.io && $namespace == tidbcloud ]]; then
  die "'$source_address' is the official TiDB Cloud provider's address (tidbcloud/tidbcloud); lock files and mirrors would mix the two up. Publish under your own namespace, e.g. --source registry.terraform.io/<your-org>/tidbcloud or --source terraform.example.com/<team>/tidbcloud"
fi
source_address=$host/$namespace/$type

host_triple=$(rustc -vV | sed -n 's/^host: //p')
[[ -n $host_triple ]] || die "cannot tell this machine's target triple from 'rustc -vV'"
((${#targets[@]})) || targets=("$host_triple")
if [[ -n $binary ]]; then
  [[ -x $binary ]] || die "--binary $binary is not an executable file"
  for t in "${targets[@]}"; do
    [[ $t == "$host_triple" ]] || die "--binary packages the host target only ($host_triple), not $t"
  done
fi

# Terraform's os_arch for a Rust target triple.
os_arch() {
  local triple=$1 arch os
  case $triple in
    x86_64-*) arch=amd64 ;;
    aarch64-*|arm64-*) arch=arm64 ;;
    i686-*|i586-*) arch=386 ;;
    arm-*|armv7-*|armv6-*) arch=arm ;;
    *) return 1 ;;
  esac
  case $triple in
    *-linux-*) os=linux ;;
    *-apple-darwin) os=darwin ;;
    *-windows-*) os=windows ;;
    *-freebsd) os=freebsd ;;
    *-openbsd) os=openbsd ;;
    *) return 1 ;;
  esac
  echo "${os}_$arch"
}

for t in "${targets[@]}"; do
  os_arch "$t" >/dev/null || die "no Terraform platform for target '$t' (known: x86_64/aarch64/i686/armv7 on linux, darwin, windows, freebsd, openbsd)"
done

# Builds the provider with `cargo build ARGS...` and prints the path of the
# binary, as cargo reports it: under CARGO_TARGET_DIR or build.target-dir
# when either is set, else target/.
build() {
  cargo build --locked --profile "$profile" --bin terraform-provider-tidbcloud \
    --message-format=json-render-diagnostics "$@" |
    python3 -c '
import json, sys
for line in sys.stdin:
    try:
        message = json.loads(line)
    except ValueError:
        continue
    if message.get("reason") == "compiler-artifact" and message.get("executable") \
            and message["target"]["name"] == "terraform-provider-tidbcloud":
        print(message["executable"])
'
}

mkdir -p "$out"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
packages=()
for t in "${targets[@]}"; do
  platform=$(os_arch "$t")
  if [[ -n $binary ]]; then
    built=$binary
  elif [[ $t == "$host_triple" ]]; then
    echo "== building $t ($profile profile)" >&2
    built=$(build)
  else
    echo "== building $t ($profile profile)" >&2
    rustup target list --installed 2>/dev/null | grep -qx "$t" ||
      echo "release: target $t does not look installed: rustup target add $t (and a linker for it)" >&2
    built=$(build --target "$t") ||
      die "building $t failed: install its toolchain (rustup target add $t) and linker, or build it on a machine that has them"
  fi
  [[ -n $built ]] || die "cargo reported no terraform-provider-tidbcloud binary for $t"
  [[ -f $built ]] || die "the build left no binary at $built"
  echo "== packaging $built for $platform" >&2
  packages+=("$platform=$built")
done

args=(--version "$version" --source "$source_address" --out "$out")
for p in "${packages[@]}"; do args+=(--package "$p"); done
python3 scripts/release_package.py "${args[@]}"

sums=$out/terraform-provider-tidbcloud_${version}_SHA256SUMS
if [[ -n ${GPG_FINGERPRINT:-} ]]; then
  command -v gpg >/dev/null || die "GPG_FINGERPRINT is set but gpg is not installed"
  gpg --batch --list-secret-keys "$GPG_FINGERPRINT" >/dev/null 2>&1 ||
    die "GPG_FINGERPRINT=$GPG_FINGERPRINT names no secret key in the keyring (gpg --list-secret-keys)"
  rm -f "$sums.sig"
  gpg --batch --yes --local-user "$GPG_FINGERPRINT" --output "$sums.sig" --detach-sign "$sums"
  echo "signed $sums.sig with $GPG_FINGERPRINT" >&2
else
  rm -f "$sums.sig"
fi
echo "release $version of $source_address is in $out/" >&2
