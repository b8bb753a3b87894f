#!/usr/bin/env bash
# Installs what w2sweep needs from Debian 12's archive (as root, or through sudo), and
# nothing when it is all there already. Usage: bash .ci/deps.sh [--test] [--bench] [--data]
#   --test   also installs Slurm and munge (the test suite starts a one-node Slurm), clang
#            (libFuzzer: tests/test_fuzz.sh), python3-torch (the transformer's PyTorch
#            agreement test, tests/xfmr.cmake, skips without it) and wordnet-base (a few MB:
#            the text sweep test, tests/test_text_sweep.sh, skips without it)
#   --bench  also installs python3-torch, for the PyTorch comparisons in bench/.
#   --data   also installs the data sets: wordnet-base (the transformer family's corpus and
#            tasks, src/textdata.h) and dataset-fashion-mnist (the 60,000 + 10,000 images of
#            sweeps/fashion_mnist.cfg, converted by data/fashion_mnist.py); CI does not ask
#            for them (tests use tiny synthetic stand-ins, and --test's wordnet-base)
set -euo pipefail
pkgs=(build-essential cmake pkg-config openmpi-bin libopenmpi-dev libscalapack-openmpi-dev
      libhdf5-openmpi-dev hdf5-tools libconfig-dev libopenblas-dev libgsl-dev
      python3-h5py python3-matplotlib python3-numpy python3-pandas)
for a in "$@"; do
  case "$a" in
    --test) pkgs+=(slurmctld slurmd slurm-client munge clang python3-torch wordnet-base) ;;
    --bench) pkgs+=(python3-torch) ;;
    --data) pkgs+=(wordnet-base dataset-fashion-mnist) ;;
    *) echo "deps.sh: unknown option '$a'" >&2; exit 2 ;;
  esac
done
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""
  [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  echo "installing: ${missing[*]}"
  $SUDO apt-get update -qq
  # keep package scripts from starting system-wide daemons (munge, slurm): the tests start
  # their own private instances (slurm/localslurm.sh)
  rc_added=""
  if [[ ! -e /usr/sbin/policy-rc.d && $(id -u) -eq 0 ]]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && rc_added=1
  fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
  if [[ -n "$rc_added" ]]; then rm -f /usr/sbin/policy-rc.d; fi
fi
