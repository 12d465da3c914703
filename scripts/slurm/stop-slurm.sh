#!/usr/bin/env bash
# Stop what start-slurm.sh started: cancel the jobs, then stop slurmd, slurmctld and munged by
# the pids in their pid files (TERM, wait up to 15 s, then KILL). Idempotent: nothing running
# is fine. PEGASUS_TS_SLURM_DIR as for start-slurm.sh; PEGASUS_TS_SLURM_PURGE=1 also deletes
# the config, state and logs.
set -uo pipefail

D=${PEGASUS_TS_SLURM_DIR:-/tmp/pegasus-ts-slurm}
RUN=$D/run
export SLURM_CONF=$D/etc/slurm.conf
export PATH="$PATH:/usr/sbin:/sbin"

die() {
  echo "stop-slurm: $*" >&2
  exit 1
}
[[ "$D" = /* ]] || die "PEGASUS_TS_SLURM_DIR is \"$D\" (expected an absolute path)"
[ -d "$D" ] || {
  echo "stop-slurm: nothing to stop ($D does not exist)"
  exit 0
}
[ "$(id -u)" = 0 ] || die "must run as root (the daemons run as root)"
if [ -z "${PEGASUS_TS_SLURM_LOCKED:-}" ] && command -v flock >/dev/null 2>&1; then
  exec 9>"$D.lock"
  flock -w 120 9 || die "another start-slurm.sh or stop-slurm.sh holds $D.lock for over 120 s"
fi

running() { kill -0 "$1" 2>/dev/null && ! grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null; }
stopped=()
stop_pid() { # $1 = pid file, $2 = expected process name
  local f=$1 p i
  [ -s "$f" ] || {
    rm -f "$f"
    return 0
  }
  p=$(cat "$f")
  if [[ "$p" =~ ^[0-9]+$ ]] && running "$p" && [ "$(cat "/proc/$p/comm" 2>/dev/null)" = "$2" ]; then
    kill -TERM "$p" 2>/dev/null
    for i in $(seq 150); do
      running "$p" || break
      sleep 0.1
    done
    if running "$p"; then
      kill -KILL "$p" 2>/dev/null
      for i in $(seq 50); do
        running "$p" || break
        sleep 0.1
      done
    fi
    stopped+=("$2($p)")
  fi
  rm -f "$f"
}

# cancel the jobs first, so that slurmstepd and the jobs' processes end cleanly
if [ -s "$RUN/slurmctld.pid" ] && running "$(cat "$RUN/slurmctld.pid")" && command -v squeue >/dev/null; then
  jobs=$(timeout 10 squeue -h -o %A 2>/dev/null)
  if [ -n "$jobs" ]; then
    # shellcheck disable=SC2086
    timeout 10 scancel $jobs 2>/dev/null
    for i in $(seq 100); do
      [ -z "$(timeout 10 squeue -h -t PD,R,CG,S -o %A 2>/dev/null)" ] && break
      sleep 0.1
    done
  fi
fi
stop_pid "$RUN/slurmd.pid" slurmd
stop_pid "$RUN/slurmctld.pid" slurmctld
stop_pid "$RUN/munged.pid" munged
rm -f "$D/env.sh"
[ "${PEGASUS_TS_SLURM_PURGE:-0}" = 1 ] && rm -rf "$D/etc" "$D/munge" "$D/state" "$D/log" "$RUN"
if [ "${#stopped[@]}" -gt 0 ]; then
  echo "stop-slurm: stopped ${stopped[*]}"
else
  echo "stop-slurm: nothing was running"
fi
exit 0
