#!/usr/bin/env bash
# Start a throw-away single-node Slurm (munged + slurmctld + slurmd) for tests and CI.
#
# Needs: root, Debian's slurm-wlm and munge packages (apt-get install slurm-wlm munge).
# No systemd and no cgroups: proctrack/linuxproc, task/none. Everything (config, munge key and
# socket, state, logs, pid files) lives under one folder:
#
#   PEGASUS_TS_SLURM_DIR       state folder (default /tmp/pegasus-ts-slurm)
#   PEGASUS_TS_SLURM_CPUS      CPUs the node declares (default 8; may exceed the real cores)
#   PEGASUS_TS_SLURM_NODE      node name (default: hostname -s; the address is 127.0.0.1)
#   PEGASUS_TS_SLURM_PORT      slurmctld port (default 6817; slurmd uses the next one)
#   PEGASUS_TS_SLURM_MIN_JOB_AGE  seconds a finished job stays visible to scontrol (default 600)
#   PEGASUS_TS_SLURM_TIMEOUT   seconds to wait for the node to become idle (default 30)
#
# Idempotent: when the daemons of a previous start are alive and the node answers, it prints
# one line and exits 0; otherwise leftovers are stopped and everything is rebuilt.
# Afterwards: `. "$PEGASUS_TS_SLURM_DIR/env.sh"` (exports SLURM_CONF) and use sbatch/squeue/...
set -euo pipefail
umask 022

D=${PEGASUS_TS_SLURM_DIR:-/tmp/pegasus-ts-slurm}
CPUS=${PEGASUS_TS_SLURM_CPUS:-8}
NODE=${PEGASUS_TS_SLURM_NODE:-$(hostname -s)}
PORT=${PEGASUS_TS_SLURM_PORT:-6817}
MIN_JOB_AGE=${PEGASUS_TS_SLURM_MIN_JOB_AGE:-600}
TIMEOUT=${PEGASUS_TS_SLURM_TIMEOUT:-30}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

die() {
  echo "start-slurm: $*" >&2
  exit 1
}
posint() { [[ "$2" =~ ^[1-9][0-9]{0,6}$ ]] || die "$1 is \"$2\" (expected a positive integer)"; }
posint PEGASUS_TS_SLURM_CPUS "$CPUS"
posint PEGASUS_TS_SLURM_PORT "$PORT"
posint PEGASUS_TS_SLURM_MIN_JOB_AGE "$MIN_JOB_AGE"
posint PEGASUS_TS_SLURM_TIMEOUT "$TIMEOUT"
[ "$PORT" -lt 65535 ] || die "PEGASUS_TS_SLURM_PORT is $PORT (expected a port below 65535)"
[[ "$D" = /* ]] || die "PEGASUS_TS_SLURM_DIR is \"$D\" (expected an absolute path)"
[ "$(id -u)" = 0 ] || die "must run as root (the Slurm daemons and munged are started as root); run it with sudo"
missing=()
for b in munged munge unmunge slurmctld slurmd sinfo scontrol sbatch srun; do
  PATH="$PATH:/usr/sbin:/sbin" command -v "$b" >/dev/null 2>&1 || missing+=("$b")
done
[ "${#missing[@]}" -eq 0 ] || die "missing ${missing[*]} (install them: apt-get install slurm-wlm munge)"
export PATH="$PATH:/usr/sbin:/sbin"

# one start (or stop) at a time: parallel test files may call this together
if [ -z "${PEGASUS_TS_SLURM_LOCKED:-}" ] && command -v flock >/dev/null 2>&1; then
  mkdir -p "$(dirname "$D")"
  exec 9>"$D.lock"
  flock -w 120 9 || die "another start-slurm.sh or stop-slurm.sh holds $D.lock for over 120 s"
  export PEGASUS_TS_SLURM_LOCKED=1
fi

export SLURM_CONF=$D/etc/slurm.conf
SOCK=$D/munge/munge.socket
RUN=$D/run
LOG=$D/log

alive() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null && ! grep -q '^State:.*Z' "/proc/$(cat "$1")/status" 2>/dev/null; }
node_state() { timeout 10 sinfo -h -n "$NODE" -o %T 2>/dev/null | head -n 1; }

if alive "$RUN/munged.pid" && alive "$RUN/slurmctld.pid" && alive "$RUN/slurmd.pid" &&
  [[ "$(node_state)" =~ ^(idle|mixed|allocated|completing)$ ]]; then
  echo "start-slurm: already running (node $NODE); . $D/env.sh to use it (SLURM_CONF=$SLURM_CONF)"
  exit 0
fi

# leftovers of an earlier start (dead or half-started daemons): stop them, wipe the state
"$HERE/stop-slurm.sh" >/dev/null 2>&1 || true
for p in "$PORT" $((PORT + 1)); do
  if ss -Hltn "sport = :$p" 2>/dev/null | grep -q .; then
    die "port $p is already in use (another Slurm?); set PEGASUS_TS_SLURM_PORT to a free port"
  fi
done
rm -rf "$D/etc" "$D/munge" "$D/state" "$LOG" "$RUN" "$D/env.sh"
mkdir -p "$D/etc" "$D/munge" "$D/state/ctld" "$D/state/d" "$LOG" "$RUN"
# munged runs as the munge user: every folder on the way to its socket must be reachable
chmod 755 "$D" "$D/etc" "$LOG" "$RUN"
dir=$D
while [ "$dir" != / ]; do
  dir=$(dirname "$dir")
  [ -x "$dir" ] || die "folder $dir is not reachable by other users (munged runs as munge); chmod o+x it"
done
t0=$(date +%s%N)

# --- munge: its own key and socket under $D
MU=root
id munge >/dev/null 2>&1 && MU=munge
dd if=/dev/urandom of="$D/munge/munge.key" bs=1024 count=1 status=none
chmod 711 "$D/munge"
chmod 400 "$D/munge/munge.key"
chown -R "$MU:" "$D/munge"
touch "$LOG/munged.log"
chown "$MU:" "$LOG/munged.log"
if ! runuser -u "$MU" -- munged --socket="$SOCK" --key-file="$D/munge/munge.key" \
  --pid-file="$D/munge/munged.pid" --log-file="$LOG/munged.log" --seed-file="$D/munge/munged.seed" \
  >"$LOG/munged.start.log" 2>&1 9>&-; then
  die "munged did not start: $(tr '\n' ' ' <"$LOG/munged.start.log") (see $LOG/munged.log)"
fi
ln -sf "$D/munge/munged.pid" "$RUN/munged.pid"
munge -S "$SOCK" -n 2>/dev/null | unmunge -S "$SOCK" >/dev/null 2>&1 ||
  die "munge does not work with socket $SOCK (see $LOG/munged.log)"

# --- slurm.conf: no cgroups, no systemd, job completion records in a text file
MEM=$(($(awk '/MemTotal/{print $2}' /proc/meminfo) / 1024 - 256))
[ "$MEM" -ge 256 ] || MEM=256
# MpiDefault=pmix when Slurm has its PMIx plugin (Debian's OpenMPI speaks PMIx, not PMI-2)
MPI_DEFAULT=none
for dirp in /usr/lib/*/slurm-wlm /usr/lib/slurm-wlm /usr/lib64/slurm /usr/lib/slurm /usr/local/lib/slurm; do
  if [ -e "$dirp/mpi_pmix.so" ]; then
    MPI_DEFAULT=pmix
    break
  fi
done
cat >"$SLURM_CONF" <<EOF
# written by pegasus-ts scripts/slurm/start-slurm.sh
ClusterName=pegasus-ts
SlurmctldHost=$NODE(127.0.0.1)
SlurmctldPort=$PORT
SlurmdPort=$((PORT + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$SOCK
StateSaveLocation=$D/state/ctld
SlurmdSpoolDir=$D/state/d
SlurmctldPidFile=$RUN/slurmctld.pid
SlurmdPidFile=$RUN/slurmd.pid
SlurmctldLogFile=$LOG/slurmctld.log
SlurmdLogFile=$LOG/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/filetxt
JobCompLoc=$LOG/jobcomp.txt
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
# schedule a batch job as soon as it is submitted (the default waits up to 3 s)
SchedulerParameters=batch_sched_delay=0
MpiDefault=$MPI_DEFAULT
MailProg=/bin/true
ReturnToService=2
SlurmdParameters=config_overrides
MinJobAge=$MIN_JOB_AGE
KillWait=5
InactiveLimit=0
NodeName=$NODE NodeAddr=127.0.0.1 CPUs=$CPUS RealMemory=$MEM State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF

fail() {
  echo "start-slurm: $1 (logs in $LOG)" >&2
  tail -n 20 "$LOG"/*.log >&2 2>/dev/null || true
  exit 1
}

# --- the daemons fork and write their pid files
# (9>&-: the daemons must not inherit the lock)
slurmctld -i >"$LOG/slurmctld.start.log" 2>&1 9>&- || fail "slurmctld did not start: $(tr '\n' ' ' <"$LOG/slurmctld.start.log")"
slurmd -N "$NODE" >"$LOG/slurmd.start.log" 2>&1 9>&- || fail "slurmd did not start: $(tr '\n' ' ' <"$LOG/slurmd.start.log")"

deadline=$(($(date +%s) + TIMEOUT))
state=
while :; do
  state=$(node_state)
  [ "$state" = idle ] && break
  [ "$(date +%s)" -lt "$deadline" ] || fail "node $NODE not idle after $TIMEOUT s (sinfo says \"${state:-nothing}\")"
  sleep 0.1
done

printf 'export SLURM_CONF=%q\n' "$SLURM_CONF" >"$D/env.sh"
ms=$((($(date +%s%N) - t0) / 1000000))
echo "start-slurm: node $NODE idle in $ms ms (CPUs=$CPUS, partition debug, MpiDefault=$MPI_DEFAULT); . $D/env.sh to use it (SLURM_CONF=$SLURM_CONF)"
