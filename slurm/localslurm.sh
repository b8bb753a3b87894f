#!/usr/bin/env bash
# localslurm.sh — a private, one-node Slurm on localhost for w2sweep's tests.
#
#   localslurm.sh install              apt-get install the Debian Slurm + MUNGE packages (root)
#   localslurm.sh start  [STATEDIR]    start munged, slurmctld, slurmd; wait until the node is idle;
#                                      prints  SLURM_CONF=<STATEDIR>/etc/slurm.conf  on stdout
#   localslurm.sh stop   [STATEDIR]    cancel jobs, stop everything started from STATEDIR (idempotent)
#   localslurm.sh status [STATEDIR]    daemons and node state; exit 0 iff all three daemons run
#   localslurm.sh env    [STATEDIR]    print the SLURM_CONF= line of a started instance
#
# Everything (config, munge key and socket, spool, logs, pid files) lives in STATEDIR
# (default $W2SLURM_STATEDIR or /tmp/w2slurm); nothing under /etc or /var is written except
# by `install`. Environment knobs:
#   W2SLURM_CPUS           CPUs declared for the node (default: nproc). Larger than nproc is allowed.
#   W2SLURM_PORT           slurmctld port; slurmd uses PORT+1 (default: first free pair from 16817)
#   W2SLURM_START_TIMEOUT  seconds to wait for the node to become idle (default 60)
#   W2SLURM_NO_APT_UPDATE  set to 1 to skip `apt-get update` in `install`
# On failure, prints one line "localslurm: <reason>" on stderr and exits non-zero
# (exit 2 = binaries missing, exit 1 = anything else).
set -Eeuo pipefail

PROG=localslurm
trap 'echo "$PROG: command failed (line $LINENO, rc=$?): $BASH_COMMAND" >&2' ERR
CMD=${1:-}
SD=${2:-${W2SLURM_STATEDIR:-/tmp/w2slurm}}
START_TIMEOUT=${W2SLURM_START_TIMEOUT:-60}
# Marker placed in the environment of every daemon we start (and inherited by slurmstepd),
# so that `stop` can find stragglers even without pid files.
MARK_VAR=W2SLURM_INSTANCE

die() { echo "$PROG: $*" >&2; exit 1; }
log() { echo "$PROG: $*" >&2; }

need_bins() {
  local missing=() b
  for b in munged slurmctld slurmd sinfo sbatch scontrol squeue scancel srun; do
    command -v "$b" >/dev/null 2>&1 || missing+=("$b")
  done
  if ((${#missing[@]})); then
    echo "$PROG: Slurm/MUNGE binaries missing (${missing[*]}); run '$0 install' as root" >&2
    exit 2
  fi
}

abs_statedir() {
  case "$SD" in /*) ;; *) SD="$PWD/$SD" ;; esac
  SD=${SD%/}
  CONF="$SD/etc/slurm.conf"
}

# ---------------------------------------------------------------- install
cmd_install() {
  [ "$(id -u)" = 0 ] || die "install needs root (apt-get)"
  command -v apt-get >/dev/null || die "install needs apt-get (Debian/Ubuntu)"
  export DEBIAN_FRONTEND=noninteractive
  if [ "${W2SLURM_NO_APT_UPDATE:-0}" != 1 ]; then
    apt-get update -qq >&2 || die "apt-get update failed"
  fi
  local pkgs="slurmctld slurmd slurm-client munge"
  local p
  for p in $pkgs; do
    if ! apt-cache show "$p" >/dev/null 2>&1; then pkgs="slurm-wlm munge"; break; fi
  done
  # Keep the packages' maintainer scripts from starting system-wide munge/slurm services:
  # this harness runs its own private daemons.
  local policy=/usr/sbin/policy-rc.d added_policy=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && added_policy=1
  fi
  local rc=0
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $pkgs >&2 || rc=$?
  if [ "$added_policy" = 1 ]; then rm -f "$policy"; fi
  [ "$rc" = 0 ] || die "apt-get install $pkgs failed (rc=$rc)"
  need_bins
  log "installed: $pkgs ($(slurmctld -V 2>/dev/null))"
}

# ---------------------------------------------------------------- helpers
# Alive = exists and is not a zombie (an orphaned daemon killed with -9 may stay a zombie
# for a while when pid 1 does not reap, as in some containers).
pid_alive() {
  [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null || return 1
  local st
  st=$(sed -n 's/^[0-9]* (.*) \([A-Za-z]\).*/\1/p' "/proc/$1/stat" 2>/dev/null || true)
  [ "$st" != Z ] && [ "$st" != X ]
}

# Pid of daemon NAME recorded in the state dir, if that process is still that daemon.
daemon_pid() {
  local name=$1 f="$SD/run/$1.pid" pid comm
  [ -r "$f" ] || return 1
  pid=$(tr -dc '0-9' <"$f")
  pid_alive "$pid" || return 1
  comm=$(cat "/proc/$pid/comm" 2>/dev/null || true)
  [ "$comm" = "$name" ] || return 1
  echo "$pid"
}

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

pick_ports() {
  if [ -n "${W2SLURM_PORT:-}" ]; then
    CTLD_PORT=$W2SLURM_PORT
    port_busy "$CTLD_PORT" && die "port $CTLD_PORT (W2SLURM_PORT) already in use"
    port_busy "$((CTLD_PORT + 1))" && die "port $((CTLD_PORT + 1)) (W2SLURM_PORT+1) already in use"
  else
    local p
    for ((p = 16817; p < 16917; p += 2)); do
      if ! port_busy "$p" && ! port_busy "$((p + 1))"; then CTLD_PORT=$p; break; fi
    done
    [ -n "${CTLD_PORT:-}" ] || die "no free port pair in 16817-16916"
  fi
  SLURMD_PORT=$((CTLD_PORT + 1))
}

# Last meaningful line of a log (errors first), for one-line failure reasons.
log_reason() {
  local f
  for f in "$@"; do
    [ -s "$f" ] || continue
    local l
    l=$(grep -aiE 'fatal' "$f" | tail -n 1 || true)
    [ -n "$l" ] || l=$(grep -av '^[[:space:]]*$' "$f" | tail -n 1 || true)
    echo "$l"
    return 0
  done
  echo "(no log output)"
}

# ---------------------------------------------------------------- config
write_conf() {
  local host cpus mem
  host=$(hostname -s 2>/dev/null || hostname)
  [ -n "$host" ] || die "cannot determine the short hostname"
  cpus=${W2SLURM_CPUS:-$(nproc)}
  mem=$(awk '/^MemTotal:/ {printf "%d", $2 / 1024 * 0.9}' /proc/meminfo 2>/dev/null || echo 1024)
  [ "${mem:-0}" -gt 0 ] || mem=1024
  NODE=$host
  cat >"$CONF" <<EOF
# Generated by w2sweep slurm/localslurm.sh — private one-node test cluster.
ClusterName=w2local
# Address given explicitly: no DNS / /etc/hosts lookup of the hostname is needed.
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
# Daemons run as root (the harness is started by root; jobs run as the submitting user).
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
# Private munged socket (used by daemons and by client commands reading this file).
AuthInfo=socket=$SD/munge/munge.socket.2
StateSaveLocation=$SD/spool/ctld
SlurmdSpoolDir=$SD/spool/d
SlurmctldPidFile=$SD/run/slurmctld.pid
SlurmdPidFile=$SD/run/slurmd.pid
SlurmctldLogFile=$SD/log/slurmctld.log
SlurmdLogFile=$SD/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
# No cgroups: works in containers / gVisor / without systemd delegation.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SwitchType=switch/none
MailProg=/bin/true
# Scheduling: CPUs are the only consumable (memory is not), so N one-CPU array tasks
# run N at a time on an N-CPU node; --mem requests still fit because RealMemory is real.
SchedulerType=sched/backfill
SchedulerParameters=bf_interval=5,sched_min_interval=0
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
# Big sweeps: array indices 0..100000, many queued job records.
MaxArraySize=100001
MaxJobCount=200000
# Keep finished jobs visible to scontrol/squeue for 10 min (there is no sacct here).
MinJobAge=600
# Reject impossible requests (e.g. -n 4 on a 2-CPU node) at submit time instead of leaving
# them PENDING (PartitionConfig) forever, which would hang a test until its timeout.
EnforcePartLimits=ALL
ReturnToService=2
KillWait=5
InactiveLimit=0
SlurmctldTimeout=60
SlurmdTimeout=120
MessageTimeout=20
# Declared CPUs may exceed the hardware (W2SLURM_CPUS): do not drain the node for that.
SlurmdParameters=config_overrides
NodeName=$host NodeAddr=127.0.0.1 NodeHostname=$host CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP OverSubscribe=YES
EOF
  # Not read with the cgroup-free plugins above, but present so that nothing falls back to
  # a system /etc/slurm/cgroup.conf.
  cat >"$SD/etc/cgroup.conf" <<EOF
CgroupPlugin=autodetect
ConstrainCores=no
ConstrainRAMSpace=no
ConstrainDevices=no
EOF
}

# ---------------------------------------------------------------- start
start_munged() {
  local mdir="$SD/munge"
  getent passwd munge >/dev/null || die "user 'munge' does not exist (is the munge package installed?)"
  install -d -m 0755 -o munge -g munge "$mdir"
  if [ ! -s "$mdir/munge.key" ]; then
    if command -v mungekey >/dev/null 2>&1; then
      mungekey --create --keyfile="$mdir/munge.key" >/dev/null 2>&1 ||
        dd if=/dev/urandom of="$mdir/munge.key" bs=1024 count=1 status=none
    else
      dd if=/dev/urandom of="$mdir/munge.key" bs=1024 count=1 status=none
    fi
  fi
  chown munge:munge "$mdir/munge.key"
  chmod 0400 "$mdir/munge.key"
  rm -f "$mdir/munge.socket.2" "$mdir/munge.socket.2.lock"
  # munged refuses to run as root with a munge-owned key; run it as 'munge'. It forks into
  # the background itself after its checks, so its exit status reports startup errors.
  local out
  if ! out=$(env "$MARK_VAR=$SD" runuser -u munge -- munged \
      --socket="$mdir/munge.socket.2" --key-file="$mdir/munge.key" \
      --pid-file="$mdir/munged.pid" --log-file="$mdir/munged.log" \
      --seed-file="$mdir/munged.seed" 2>&1); then
    die "munged failed to start: $(echo "$out" | tail -n 1)"
  fi
  local i
  for ((i = 0; i < 50; i++)); do
    [ -S "$mdir/munge.socket.2" ] && [ -s "$mdir/munged.pid" ] && break
    sleep 0.1
  done
  [ -s "$mdir/munged.pid" ] || die "munged did not write its pid file: $(log_reason "$mdir/munged.log")"
  cp "$mdir/munged.pid" "$SD/run/munged.pid"
  daemon_pid munged >/dev/null || die "munged exited: $(log_reason "$mdir/munged.log")"
}

start_daemon() {  # name args...
  local name=$1
  shift
  # -D keeps it in the foreground of its own session, so $! is its pid; stdout/stderr go
  # to <name>.out in case it dies before opening its log file.
  env "$MARK_VAR=$SD" setsid "$name" -D "$@" </dev/null >"$SD/log/$name.out" 2>&1 &
  echo $! >"$SD/run/$name.pid"
}

# Fail with a one-line reason if a daemon has gone.
check_alive() {
  local n
  for n in munged slurmctld slurmd; do
    pid_alive "$(tr -dc '0-9' <"$SD/run/$n.pid" 2>/dev/null)" && continue
    local l="$SD/munge/munged.log"
    [ "$n" = munged ] || l="$SD/log/$n.log $SD/log/$n.out"
    # shellcheck disable=SC2086
    die "$n died during startup: $(log_reason $l)"
  done
}

print_env() { echo "SLURM_CONF=$CONF"; }

cmd_start() {
  [ "$(id -u)" = 0 ] || die "start needs root (daemons run as root, munged as 'munge'); uid=$(id -u)"
  need_bins
  abs_statedir
  case "$SD" in *[[:space:]]* | *'#'*) die "state dir must not contain spaces or '#': '$SD'" ;; esac
  # The munge socket path must fit in a sockaddr_un (108 bytes).
  [ ${#SD} -le 80 ] || die "state dir path too long for a unix socket (${#SD} > 80 chars): $SD"
  if [ -f "$CONF" ] && daemon_pid slurmctld >/dev/null && daemon_pid slurmd >/dev/null &&
     daemon_pid munged >/dev/null; then
    log "already running in $SD"
    print_env
    return 0
  fi
  # Partial leftovers from a crash: clean them up first.
  cmd_stop >/dev/null 2>&1 || true
  local t0=$SECONDS
  # Any failure from here on: tear down whatever did start, keep the logs.
  trap 'rc=$?; trap - EXIT; [ "$rc" = 0 ] || cmd_stop >/dev/null 2>&1 || true; exit "$rc"' EXIT
  mkdir -p "$SD"
  chmod 0755 "$SD"
  install -d -m 0755 "$SD/etc" "$SD/run" "$SD/log" "$SD/spool" "$SD/spool/ctld" "$SD/spool/d"
  # munged's path-security check wants no group/other-writable ancestors except sticky /tmp.
  rm -f "$SD"/log/*.log "$SD"/log/*.out
  pick_ports
  write_conf
  export SLURM_CONF="$CONF"
  start_munged
  # -c: clear previous controller state: no jobs or node states left over from an earlier run.
  start_daemon slurmctld -c -f "$CONF"
  sleep 0.3
  start_daemon slurmd -f "$CONF"
  local state="" reason=""
  while :; do
    check_alive
    state=$(sinfo -h -n "$NODE" -o '%t' 2>/dev/null | head -n 1 || true)
    case "$state" in
      idle | mix | alloc) break ;;
      drain* | drng | down* | fail*)
        reason=$(sinfo -h -n "$NODE" -o '%E' 2>/dev/null || true)
        scontrol update NodeName="$NODE" State=RESUME >/dev/null 2>&1 || true ;;
    esac
    if ((SECONDS - t0 >= START_TIMEOUT)); then
      die "node '$NODE' not idle after ${START_TIMEOUT}s (state='${state:-no answer}'${reason:+, reason: $reason}; slurmd log: $(log_reason "$SD/log/slurmd.log" "$SD/log/slurmd.out"))"
    fi
    sleep 0.2
  done
  trap - EXIT
  log "started in $((SECONDS - t0))s: node $NODE $state, ctld port $CTLD_PORT, state dir $SD"
  print_env
}

# ---------------------------------------------------------------- stop
# Pids of processes started from this state dir (marker in their environment), minus us.
marked_pids() {
  local f p
  { grep -lzxF "$MARK_VAR=$SD" /proc/[0-9]*/environ || true; } 2>/dev/null | while read -r f; do
    p=${f#/proc/}
    p=${p%/environ}
    [ "$p" = $$ ] || [ "$p" = "$BASHPID" ] || echo "$p"
  done
}

kill_wait() {  # sig timeout_s pids...
  local sig=$1 to=$2 p i alive
  shift 2
  [ $# -gt 0 ] || return 0
  kill "-$sig" "$@" 2>/dev/null || true
  for ((i = 0; i < to * 10; i++)); do
    alive=0
    for p in "$@"; do pid_alive "$p" && alive=1; done
    [ "$alive" = 0 ] && return 0
    sleep 0.1
  done
  return 1
}

cmd_stop() {
  abs_statedir
  local p n pids=()
  # Cancel jobs first so slurmstepd cleans up the jobs' processes.
  if [ -f "$CONF" ] && daemon_pid slurmctld >/dev/null && command -v squeue >/dev/null; then
    local jobs
    jobs=$(SLURM_CONF=$CONF timeout 10 squeue -h -o '%A' 2>/dev/null || true)
    if [ -n "$jobs" ]; then
      # shellcheck disable=SC2086
      SLURM_CONF=$CONF timeout 10 scancel $jobs >/dev/null 2>&1 || true
      for ((n = 0; n < 50; n++)); do
        [ -z "$(SLURM_CONF=$CONF timeout 5 squeue -h -t R,CG -o '%A' 2>/dev/null || true)" ] && break
        sleep 0.2
      done
    fi
  fi
  # slurmd and slurmctld together (each takes ~2 s to shut down), munged after them.
  for n in slurmd slurmctld; do
    p=$(daemon_pid "$n" || true)
    [ -n "$p" ] && pids+=("$p")
  done
  if ((${#pids[@]})); then
    kill_wait TERM 15 "${pids[@]}" || kill_wait KILL 5 "${pids[@]}" || true
  fi
  # Stragglers: slurmstepd, anything started with our marker (including munged).
  mapfile -t pids < <(marked_pids)
  if ((${#pids[@]})); then
    kill_wait TERM 5 "${pids[@]}" || kill_wait KILL 5 "${pids[@]}" || true
  fi
  p=$(daemon_pid munged || true)
  [ -n "$p" ] && { kill_wait TERM 5 "$p" || kill_wait KILL 5 "$p" || true; }
  rm -f "$SD"/run/*.pid "$SD/munge/munge.socket.2" "$SD/munge/munge.socket.2.lock" 2>/dev/null || true
  [ -d "$SD" ] && log "stopped ($SD)"
  return 0
}

# ---------------------------------------------------------------- status
cmd_status() {
  abs_statedir
  local n p ok=0
  for n in munged slurmctld slurmd; do
    if p=$(daemon_pid "$n"); then echo "$n: running (pid $p)"; else echo "$n: not running"; ok=1; fi
  done
  if [ "$ok" = 0 ] && command -v sinfo >/dev/null; then
    SLURM_CONF=$CONF sinfo -N -o '%N %P %t %c %E' 2>&1 || ok=1
    print_env
  fi
  exit "$ok"
}

cmd_env() {
  abs_statedir
  [ -f "$CONF" ] || die "no configuration in $SD (not started)"
  print_env
}

case "$CMD" in
  install) cmd_install ;;
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  env) cmd_env ;;
  *) echo "usage: $0 {install|start|stop|status|env} [STATEDIR]" >&2; exit 64 ;;
esac
