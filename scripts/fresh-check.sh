#!/usr/bin/env bash
# Proves the README's Quick start on a machine that has nothing installed by hand: builds a
# minimal Debian 12 (bookworm, variant minbase) root with mmdebstrap from Debian's packages,
# copies this checkout in (tracked and untracked files, not ignored ones such as build/ or .venv/)
# and, as root in a chroot, runs
#   1. quickstart: the README's first command (install-deps, configure, build, the main job);
#   2. extras:     what the second command adds on top (Slurm + munge, clang 16 for the sanitizer
#                  build, the analysis venv's test runner), checked at configure / --version level
#                  and by starting and stopping a throwaway Slurm cluster.
# Whatever the host has installed cannot leak in: the chroot sees only its own /usr.
#
#   scripts/fresh-check.sh [--keep] [--stage quickstart|all] [--root DIR]
#
# --keep leaves the root in place (its path is printed); --root DIR enters such a kept root again
# instead of making a new one (for iterating on a failure; the check proper always starts fresh).
#
# Env: ESM_FRESH_MIRROR (default http://deb.debian.org/debian), ESM_FRESH_DIR (where the root is
# made, default /var/tmp; it needs about 4 GiB). Needs root, mount namespaces and the network to
# Debian's mirror and PyPI. Takes about 10-15 minutes on 2 cores. The chroot runs in its own mount
# and pid namespaces: its mounts and any daemon it started vanish with it, even on a crash.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

keep=0
stage=all
reuse=
while [[ $# -gt 0 ]]; do
  case $1 in
    --keep) keep=1 ;;
    --stage) stage=${2:?--stage needs quickstart or all}; shift ;;
    --root) reuse=${2:?--root needs a directory}; shift ;;
    *) echo "fresh-check: unknown argument '$1' (usage: fresh-check.sh [--keep] [--stage quickstart|all] [--root DIR])" >&2; exit 2 ;;
  esac
  shift
done
[[ $stage == quickstart || $stage == all ]] || { echo "fresh-check: --stage must be quickstart or all, not '$stage'" >&2; exit 2; }
[[ $(id -u) -eq 0 ]] || { echo "fresh-check: needs root (it builds a Debian root and chroots into it)" >&2; exit 1; }

# The host tools this check itself needs (not the project's: those are what is under test).
if ! command -v mmdebstrap >/dev/null || ! command -v unshare >/dev/null; then
  echo "fresh-check: installing mmdebstrap"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends mmdebstrap util-linux >/dev/null
fi

mirror=${ESM_FRESH_MIRROR:-http://deb.debian.org/debian}
security=${mirror%/debian}/debian-security
parent=${ESM_FRESH_DIR:-/var/tmp}
if [[ -n $reuse ]]; then
  [[ -x $reuse/usr/bin/apt-get ]] || { echo "fresh-check: --root '$reuse' is not a Debian root made by --keep" >&2; exit 2; }
  root=$(realpath "$reuse")
  keep=1
else
  mkdir -p "$parent"
  root=$(mktemp -d "$parent/esm-fresh.XXXXXX")
fi
cleanup() {
  local rc=$?
  if [[ $keep == 1 ]]; then
    echo "fresh-check: root kept at $root"
  else
    rm -rf --one-file-system "$root"
  fi
  exit "$rc"
}
trap cleanup EXIT

t0=$SECONDS
stamp() { printf 'fresh-check: [%4d s] %s\n' "$((SECONDS - t0))" "$*"; }

if [[ -z $reuse ]]; then
  stamp "building a minimal Debian 12 root in $root"
  mmdebstrap --quiet --mode=root --variant=minbase bookworm "$root" \
    "deb $mirror bookworm main" "deb $mirror bookworm-updates main" "deb $security bookworm-security main"
else
  stamp "re-entering the kept root $root (not a fresh check)"
  rm -rf "$root/root/esm/.git"
fi

# The checkout: what git would carry (tracked + untracked, ignored left out) plus .git, so the
# build records the commit as it does anywhere else.
mkdir -p "$root/root/esm"
git -C "$repo" ls-files -z --cached --others --exclude-standard |
  tar -C "$repo" --null --ignore-failed-read -T - -cf - 2>/dev/null | tar -C "$root/root/esm" -xf -
cp -a "$repo/.git" "$root/root/esm/.git"

# The network as this machine reaches it: name resolution, and local CA certificates of this
# site (a TLS-inspecting proxy in front of PyPI, for one). They are the site's, not the project's:
# ca-certificates, once install-deps brings it, takes them into the chroot's bundle.
cp -L /etc/resolv.conf "$root/etc/resolv.conf"
# The machine's own name must resolve (slurmd registers with slurmctld by it), as on any installed
# Debian, whose installer writes it into /etc/hosts.
cp -L /etc/hostname /etc/hosts "$root/etc/"
if compgen -G '/usr/local/share/ca-certificates/*.crt' >/dev/null; then
  mkdir -p "$root/usr/local/share/ca-certificates"
  cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/"
fi

# What runs inside: a clean environment, as after logging in as root on a new machine.
cat >"$root/root/fresh-stage.sh" <<'EOF'
#!/bin/bash
set -euo pipefail
cd /root/esm
t0=$SECONDS
stamp() { printf 'fresh-check: (chroot) [%4d s] %s\n' "$((SECONDS - t0))" "$*"; }

stamp "README command 1: bash scripts/quickstart.sh"
bash scripts/quickstart.sh
stamp "quickstart passed; the root now holds $(du -sxm / | cut -f1) MiB (system, packages, build, venv)"
[[ $1 == all ]] || exit 0

stamp "extras of README command 2: Slurm, clang 16, the analysis test runner"
ESM_WITH_SLURM=1 ESM_WITH_SANITIZERS=1 scripts/install-deps.sh
slurmctld -V
munged --version
ip -V
clang++-16 --version | head -1
stamp "configure the sanitizer build (cmake --preset asan)"
cmake --preset asan >/dev/null
.venv/bin/python -m pytest --version
.venv/bin/python -c 'import h5py, numpy, pandas, matplotlib; print("analysis venv: imports ok")'
stamp "the README's Python package: pip install ./python in a new venv (compiles esm for it)"
python3 -m venv /root/venv-esm
/root/venv-esm/bin/pip install -q ./python
/root/venv-esm/bin/python -c 'import esm; a = esm.sample("ofa-mbv3", 3, seed=1); d = esm.describe(a[0]); print("esm package:", esm.version(), len(a), "archs, depth", d["depth"])'
stamp "a throwaway Slurm cluster starts, runs one srun and stops"
cluster=$(mktemp -d)
eval "$(scripts/slurm-cluster.sh start "$cluster")"
srun -n 1 -t 1 hostname
scripts/slurm-cluster.sh stop "$cluster"
stamp "extras passed; the root now holds $(du -sxm / | cut -f1) MiB"
EOF
chmod +x "$root/root/fresh-stage.sh"

stamp "entering the chroot (stage: $stage)"
# Own mount + pid namespaces: proc, sys, dev and a private /dev/shm (Open MPI's shared memory)
# exist only for the chroot, and leave with it; --kill-child: killing this script (a CI time limit)
# ends every process started inside.
unshare --mount --pid --fork --kill-child --propagation private /bin/bash -euo pipefail -c '
  root=$1 stage=$2
  mount -t proc proc "$root/proc"
  mount --rbind /sys "$root/sys"
  mount --rbind /dev "$root/dev"
  mount -t tmpfs -o mode=1777 shm "$root/dev/shm"
  exec chroot "$root" /usr/bin/env -i HOME=/root LANG=C.UTF-8 TERM=dumb \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    /bin/bash /root/fresh-stage.sh "$stage"
' fresh-check "$root" "$stage"
stamp "passed: the README's Quick start works on a fresh Debian 12 root"
