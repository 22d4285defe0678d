#!/usr/bin/env bash
# Tear down what scripts/slurm/up.sh started: slurmd, slurmctld, munged (by pid file only).
#   SLURM_BASE=${TMPDIR:-/tmp}/quarry-slurm bash scripts/slurm/down.sh [--purge-state] [--keep-munge]
set -uo pipefail
SLURM_BASE=${SLURM_BASE:-${TMPDIR:-/tmp}/quarry-slurm}

stop_pidfile() {
  local name=$1 pidfile=$2 pid
  [[ -f $pidfile ]] || return 0
  pid=$(cat "$pidfile")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
    echo "[slurm_down] stopped $name ($pid)" >&2
  fi
  rm -f "$pidfile"
}

# cancel whatever is still queued/running so job steps do not linger
command -v squeue >/dev/null && squeue -h -o %i 2>/dev/null | xargs -r scancel 2>/dev/null || true
stop_pidfile slurmd    "$SLURM_BASE/slurmd.pid"
stop_pidfile slurmctld "$SLURM_BASE/slurmctld.pid"
[[ " $* " == *" --keep-munge "* ]] || stop_pidfile munged /run/munge/munged.pid
if [[ " $* " == *" --purge-state "* ]]; then
  rm -rf "$SLURM_BASE"/{state,spool,log}
  echo "[slurm_down] purged state in $SLURM_BASE" >&2
fi
echo "slurm down"
