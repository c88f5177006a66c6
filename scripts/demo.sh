#!/usr/bin/env bash
# Runs the provider end to end with the real terraform CLI against a local
# tidbcloud-sim: apply (connection, acceptance, domains), a plan that must
# show no changes, the state after a refresh, then destroy.
# Usage: scripts/demo.sh [--release]
# Colours only when the output is a terminal.
set -euo pipefail
cd "$(dirname "$0")/.."

profile=debug
cargo_flags=()
if [[ "${1:-}" == "--release" ]]; then
  profile=release
  cargo_flags=(--release)
fi
command -v terraform >/dev/null || { echo "demo: terraform is not on PATH (1.8 or later is needed)" >&2; exit 1; }
command -v curl >/dev/null || { echo "demo: curl is not on PATH (the example accepts the connection with it)" >&2; exit 1; }

cargo build "${cargo_flags[@]}" --bin terraform-provider-tidbcloud --bin tidbcloud-sim
bin_dir="$PWD/target/$profile"
work=$(mktemp -d)
sim_log="$work/sim.log"
cleanup() {
  [[ -n "${sim_pid:-}" ]] && kill "$sim_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# The simulator prints its address on its first line.
coproc SIM { exec "$bin_dir/tidbcloud-sim" --listen 127.0.0.1:0 --transition-delay-ms 500 2>"$sim_log"; }
sim_pid=$SIM_PID
read -r first_line <&"${SIM[0]}"
sim_url=${first_line#tidbcloud-sim listening on }
echo "== tidbcloud-sim at $sim_url (console: $sim_url/)"

cat >"$work/terraform.tfrc" <<CFG
provider_installation {
  dev_overrides {
    "terraform.local/tidbcloud/tidbcloud" = "$bin_dir"
  }
  direct {}
}
CFG
cp examples/demo/main.tf "$work/main.tf"

export TF_CLI_CONFIG_FILE="$work/terraform.tfrc" CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1
export TIDBCLOUD_SERVERLESS_ENDPOINT="$sim_url" TIDBCLOUD_PUBLIC_KEY=demo-public TIDBCLOUD_PRIVATE_KEY=demo-private
export TF_VAR_simulator_url="$sim_url"
# Terraform colours its output unless told not to; piped output stays plain.
color=()
[[ -t 1 ]] || color=(-no-color)
tf() {
  local words=("$1")
  shift
  [[ ${words[0]} == state ]] && { words+=("$1"); shift; }
  terraform -chdir="$work" "${words[@]}" "${color[@]}" "$@"
}

echo "== terraform apply"
tf apply -auto-approve -input=false -compact-warnings
echo "== terraform plan (expecting no changes)"
set +e
tf plan -detailed-exitcode -input=false -compact-warnings
code=$?
set -e
if [[ $code -ne 0 ]]; then
  echo "demo: the plan after apply was not empty (exit $code)" >&2
  exit 1
fi
# The state as apply left it holds the connection as it was when created
# (PENDING_ACCEPTANCE); a refresh reads it again after the acceptance.
echo "== terraform apply -refresh-only (reads the accepted connection)"
tf apply -refresh-only -auto-approve -input=false -compact-warnings
echo "== the connection after acceptance"
shown=$(terraform -chdir="$work" state show -no-color tidbcloud_private_link_connection.kafka)
echo "$shown"
grep -Eq '^ *state += "ACTIVE"$' <<<"$shown" || { echo "demo: the connection is not ACTIVE after acceptance" >&2; exit 1; }
echo "== terraform destroy"
tf destroy -auto-approve -input=false -compact-warnings
echo "== demo finished: apply, empty plan and destroy all succeeded"
