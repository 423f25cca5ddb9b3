#!/usr/bin/env bash
# .ci/docker-engine.sh (adapted from ../shared/tools/docker-engine.sh): a real Docker engine and a registry-free Python base image on this machine class
# (Debian bookworm VM, root, cgroup v1, no container registry reachable; only Debian's mirror and PyPI).
# Measured: packages ~15 s, dockerd ready in ~1 s (overlay2, cgroupfs), debootstrap base image ~1 min (161 MB,
# Python 3.11.2), hardened container start ~0.25 s through the Docker SDK.
#
#   ./docker-engine.sh          install (idempotent), start dockerd unless one answers, build grader-base:local
#   ./docker-engine.sh stop     stop the dockerd this script started (by its PID file)
#
# Building on the base image: `docker build --network host --build-arg BASE_IMAGE=grader-base:local ...`, with
# /etc/ssl/certs/ca-certificates.crt copied into the build context and given to pip (PIP_CERT): PyPI is reached
# through a TLS-intercepting proxy here. Install Python packages into a venv (Debian's system pip refuses).
# Bind mounts need paths the daemon sees; a read-only container refuses put_archive.
set -euo pipefail

SBX_DIR=${SBX_DIR:-/var/lib/grader-docker}
DOCKER_ROOT=${DOCKER_ROOT:-$SBX_DIR/docker-root}
ROOTFS=${ROOTFS:-$SBX_DIR/rootfs}
PIDFILE=$SBX_DIR/dockerd.pid
LOG=$SBX_DIR/dockerd.log
BASE_TAG=${BASE_TAG:-grader-base:local}
# the Debian mirror this machine's apt already uses (first URIs line of its deb822 sources)
MIRROR=${MIRROR:-$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null)}

log() { printf '\n[%(%H:%M:%S)T] %s\n' -1 "$*"; }
timed() { local s=$SECONDS; "$@"; log "   ($* took $((SECONDS - s))s)"; }

stop_engine() {
  if [[ -f $PIDFILE ]] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
    local pid; pid=$(cat "$PIDFILE")
    log "stopping dockerd pid $pid (it stops its own containerd child)"
    kill -TERM "$pid"
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -0 "$pid" 2>/dev/null && { echo "dockerd $pid still running" >&2; return 1; }
    rm -f "$PIDFILE"
  else
    log "no dockerd started by this script is running"
  fi
}
if [[ ${1:-} == stop ]]; then stop_engine; exit 0; fi

[[ $(id -u) == 0 ]] || { echo "run as root" >&2; exit 1; }
mkdir -p "$SBX_DIR"

# ---------------------------------------------------------------- 1. packages
install_packages() {
  apt-get update -qq
  # no init system in the VM: keep postinst scripts from trying to start services
  local made_policy=0
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; made_policy=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    docker.io containerd runc iptables tini debootstrap bubblewrap >/dev/null
  [[ $made_policy == 1 ]] && rm -f /usr/sbin/policy-rc.d
  return 0
}
log "1. apt packages (docker.io 20.10.24, containerd 1.6.20, runc 1.1.5, iptables-nft, debootstrap, bubblewrap)"
timed install_packages

# ---------------------------------------------------------------- 2. engine
engine_up() { docker info >/dev/null 2>&1; }
try_dockerd() {  # args: extra dockerd flags
  mkdir -p "$DOCKER_ROOT"
  nohup dockerd --data-root "$DOCKER_ROOT" --exec-opt native.cgroupdriver=cgroupfs "$@" >"$LOG" 2>&1 &
  local pid=$!; echo "$pid" > "$PIDFILE"
  for _ in $(seq 1 80); do
    engine_up && { log "   dockerd pid $pid up with: $*"; return 0; }
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.25
  done
  echo "   dockerd with [$*] failed; last log lines:" >&2; tail -5 "$LOG" >&2 || true
  kill -TERM "$pid" 2>/dev/null || true; sleep 1; rm -f "$PIDFILE"
  return 1
}
log "2. docker engine"
if engine_up; then
  log "   an engine already answers on /var/run/docker.sock; using it"
else
  # overlay2 + iptables worked here first try; the others are fallbacks
  try_dockerd --storage-driver overlay2 ||
  try_dockerd --storage-driver overlay2 --iptables=false --bridge=none ||
  try_dockerd --storage-driver vfs --iptables=false --bridge=none ||
  { echo "no engine could be started" >&2; exit 1; }
fi
docker info --format '   server {{.ServerVersion}}, storage {{.Driver}}, cgroup {{.CgroupDriver}} v{{.CgroupVersion}}'

# ---------------------------------------------------------------- 3. base image without a registry
build_rootfs() {
  debootstrap --variant=minbase --include=python3,python3-venv bookworm "$ROOTFS" "$MIRROR" >"$SBX_DIR/debootstrap.log"
  rm -rf "$ROOTFS"/var/cache/apt/archives/*.deb "$ROOTFS"/var/lib/apt/lists/*
  chmod 755 "$ROOTFS/root"   # so a non-root container user can traverse /root if anything is mounted there
}
import_base() {
  tar -C "$ROOTFS" -c . | docker import -c 'ENV LANG=C.UTF-8' -c 'CMD ["python3"]' - "$BASE_TAG" >/dev/null
}
log "3. $BASE_TAG from debootstrap (bookworm minbase + python3 3.11.2 + venv)"
if ! docker image inspect "$BASE_TAG" >/dev/null 2>&1; then
  [[ -x $ROOTFS/usr/bin/python3 ]] || timed build_rootfs
  timed import_base
fi
docker image inspect "$BASE_TAG" --format '   {{.RepoTags}} {{.Size}} bytes'

# ---------------------------------------------------------------- 5. smoke test with the hardened flags
HARDEN=(--network none --read-only --tmpfs /tmp:rw,size=64m,noexec,nosuid,nodev
        --memory 2g --memory-swap 2g --pids-limit 256 --cap-drop ALL
        --security-opt no-new-privileges --user 65534:65534)
log "5. smoke test"
docker run --rm "${HARDEN[@]}" "$BASE_TAG" python3 -c 'import os,socket; print("uid", os.getuid(), "net", os.listdir("/sys/class/net"))'
log "done. engine pid $(cat "$PIDFILE" 2>/dev/null || echo '(pre-existing)'); stop with: $0 stop"
