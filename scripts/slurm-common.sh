# Sourced by scripts/slurm-cluster.sh and scripts/two-node-cluster.sh: what esm's throwaway test
# clusters share.

# slurm.conf settings apart from names, hosts and paths: munge, PMIx for srun, no cgroups, a
# scheduler pass every second, no accounting; a requeued job's state kept for 10 minutes.
slurm_conf_common() {
  cat <<'CONF'
AuthType=auth/munge
CredType=cred/munge
MpiDefault=pmix
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SlurmUser=root
SlurmdUser=root
ReturnToService=2
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=1
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
KillWait=5
MinJobAge=600
InactiveLimit=0
CONF
}

# Stops process PID (one this script started): TERM, up to 5 s, then KILL.
stop_pid() {
  local pid=$1
  kill -0 "$pid" 2>/dev/null || return 0
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
}

# Starts munged (with /etc/munge/munge.key) unless one runs; prints the pid of the daemon it
# started, nothing when one was running. One munged serves every host that shares /run/munge.
start_munge() {
  pgrep -x munged >/dev/null && return 0
  mkdir -p /run/munge /var/log/munge /var/lib/munge
  chown -R munge:munge /run/munge /etc/munge /var/log/munge /var/lib/munge
  chmod 700 /etc/munge /var/log/munge
  chmod 400 /etc/munge/munge.key
  runuser -u munge -- munged --force
  for _ in $(seq 50); do [[ -s /run/munge/munged.pid ]] && break; sleep 0.1; done
  cat /run/munge/munged.pid
}
