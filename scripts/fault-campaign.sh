#!/bin/sh
# Runs the fault campaign: N trials (default 20) of apply and destroy under
# injected faults, with two workspaces sharing display names, against the
# simulator with the real terraform CLI. Prints trials, faults injected,
# orphans, ghosts, cross-workspace adoptions and the longest destroy; fails
# unless orphans, ghosts and adoptions are all 0.
#
#   scripts/fault-campaign.sh 30
#   FAULT_CAMPAIGN_SEED=7 scripts/fault-campaign.sh 10
set -eu
cd "$(dirname "$0")/.."
FAULT_CAMPAIGN_TRIALS="${1:-20}" exec cargo test --test e2e campaign::fault_campaign -- --ignored --exact --nocapture
