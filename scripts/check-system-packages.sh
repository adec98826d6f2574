#!/bin/sh
# Runs before `npm test`: the Debian packages the tests use for real (a Mosquitto broker and its
# clients, ffmpeg, the Fashion-MNIST IDX files, and PyTorch with torchvision for the test of the
# Python fine-tuning script). Missing ones are installed when that is possible
# (root, or sudo without a password, and apt-get); otherwise one message names them and the
# command to run, and the tests do not start.
# PIVOT_SYSTEM_ROOT prefixes the paths looked at (for testing this script).
set -eu
root="${PIVOT_SYSTEM_ROOT:-}"
missing=""
[ -x "$root/usr/sbin/mosquitto" ] || missing="$missing mosquitto"
[ -x "$root/usr/bin/mosquitto_sub" ] || missing="$missing mosquitto-clients"
[ -x "$root/usr/bin/ffmpeg" ] || missing="$missing ffmpeg"
[ -d "$root/usr/share/datasets/fashion-mnist" ] || missing="$missing dataset-fashion-mnist"
[ -d "$root/usr/lib/python3/dist-packages/torch" ] || missing="$missing python3-torch"
[ -d "$root/usr/lib/python3/dist-packages/torchvision" ] || missing="$missing python3-torchvision"
missing="${missing# }"
[ -z "$missing" ] && exit 0

as=""
if ! command -v apt-get >/dev/null 2>&1; then
  as="none"
elif [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then as="sudo"; else as="none"; fi
fi
if [ "$as" != none ]; then
  echo "npm test: installing the Debian packages the tests need: $missing" >&2
  # shellcheck disable=SC2086 # one word per package
  if $as apt-get update -qq && DEBIAN_FRONTEND=noninteractive $as apt-get install -y -qq --no-install-recommends $missing >/dev/null; then
    exit 0
  fi
  echo "npm test: could not install $missing (see apt-get's message above); install them with: sudo apt-get install $missing" >&2
  exit 1
fi
echo "npm test needs the Debian packages $missing; install them with: sudo apt-get install $missing" >&2
exit 1
