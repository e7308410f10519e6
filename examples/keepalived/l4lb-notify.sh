#!/bin/sh
# keepalived's notify script for an l4lb appliance with session sync (docs/sync.md, "Driving
# promotion from keepalived"). keepalived runs it on every VRRP transition, adding four
# arguments to the ones configured:
#
#   l4lb-notify.sh [SETTINGS_FILE] INSTANCE|GROUP <name> MASTER|BACKUP|FAULT|STOP|DELETED <priority>
#
# MASTER: this node now carries the traffic, so its sync role becomes `active` (the data plane
# starts forwarding with the sessions it holds and announces the VIPs and local addresses by
# gratuitous ARP). Every other state: the node must not forward, so the role becomes `backup`
# (it keeps receiving the peer's sessions, ready for the next failover).
#
# keepalived starts scripts with an almost empty environment, so the settings come from
# SETTINGS_FILE (default /etc/l4lb/keepalived-notify.env), NAME=value lines read by this
# shell, or else from the environment:
#   L4LB_SOCKET  the appliance's API socket (its --listen)     default /run/l4lb/api.sock
#   L4LB_TOKEN   its bearer token (its --token), if it has one
set -u

settings=/etc/l4lb/keepalived-notify.env
if [ $# -eq 5 ]; then
  settings=$1
  shift
fi
if [ -r "$settings" ]; then . "$settings"; fi
socket=${L4LB_SOCKET:-/run/l4lb/api.sock}
token=${L4LB_TOKEN:-}

case "${3:-}" in
  MASTER) role=active ;;
  BACKUP | FAULT | STOP | DELETED) role=backup ;;
  *)
    echo "usage: $0 [SETTINGS_FILE] INSTANCE|GROUP NAME MASTER|BACKUP|FAULT|STOP|DELETED PRIORITY" >&2
    exit 2
    ;;
esac

say() {
  echo "l4lb-notify: $*" >&2
  if command -v logger >/dev/null 2>&1; then logger -t l4lb-notify -- "$*"; fi
}

# The token goes to curl on stdin (-H @-), never on a command line that ps would show.
answer=$(printf '%s' "${token:+Authorization: Bearer $token}" |
  curl --silent --show-error --fail-with-body --max-time 5 \
    --unix-socket "$socket" -X PATCH \
    -H @- -H 'Content-Type: application/merge-patch+json' \
    --data "{\"role\":\"$role\"}" \
    http://l4lb/api/v1/sync 2>&1)
status=$?
if [ "$status" -ne 0 ]; then
  say "keepalived $3 ($2): setting the sync role to $role failed (curl $status): $answer"
  exit "$status"
fi
say "keepalived $3 ($2): sync role is now $role"
