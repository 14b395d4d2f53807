#!/usr/bin/env bash
# Makes sure headless Chromium is installed, for ReportRenderIT (which screenshots the run report).
# Does nothing when /usr/bin/chromium exists; otherwise installs the Debian package `chromium` with
# apt-get, as root or through sudo. Exit 0 when chromium is there afterwards, 1 with a message if not.
set -euo pipefail

if [[ -x /usr/bin/chromium ]]; then
  exit 0
fi

# $@: the command prefix (nothing as root, "sudo -n" otherwise).
apt_install() {
  "$@" env DEBIAN_FRONTEND=noninteractive apt-get update -q \
    && "$@" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium
}

echo "ensure-chromium.sh: /usr/bin/chromium not found, installing the Debian package chromium" >&2
if [[ "$(id -u)" == 0 ]]; then
  apt_install >&2 || true
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
  apt_install sudo -n >&2 || true
else
  echo "ensure-chromium.sh: not root and no password-less sudo; install it yourself: apt-get install chromium" >&2
  exit 1
fi

if [[ ! -x /usr/bin/chromium ]]; then
  echo "ensure-chromium.sh: apt-get did not install /usr/bin/chromium (no network or no such package?);" \
    "install it yourself: apt-get install chromium" >&2
  exit 1
fi
echo "ensure-chromium.sh: installed $(/usr/bin/chromium --version 2>/dev/null || echo chromium)" >&2
