# Sourced by setup.sh and bench-tools.sh: install_missing TAG PACKAGE... installs the Debian
# packages that are not installed yet (apt-get update once, only when something is missing).
# Daemons they bring (redis, mariadb, keepalived) are not started: the tests start their own,
# in their own namespaces, and a fresh machine should not gain listening services.
install_missing() {
  local tag=$1 p
  shift
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "$tag: installing Debian packages: ${missing[*]}"
  local sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  local policy=/usr/sbin/policy-rc.d own_policy=
  if [ ! -e $policy ]; then
    printf '#!/bin/sh\nexit 101\n' | "${sudo_cmd[@]}" tee $policy >/dev/null
    "${sudo_cmd[@]}" chmod +x $policy
    own_policy=1
  fi
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  [ -z "$own_policy" ] || "${sudo_cmd[@]}" rm -f $policy
}
