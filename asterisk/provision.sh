#!/usr/bin/env bash
# Calldock: run Asterisk 22 (Debian sid) from a chroot, several instances side by side.
#
#   provision.sh root                      build/check the sid root (cached outside the repo)
#   provision.sh start  NAME [main|carrier] render config, start, wait until ARI answers
#   provision.sh stop   NAME               core stop now -> SIGTERM -> SIGKILL, by the instance's PID
#   provision.sh status NAME               "running"/"stopped", exit 0/3
#   provision.sh kill   NAME               SIGKILL by PID (chaos tests)
#   provision.sh render NAME [main|carrier] only render config + runtime dirs (used by the Docker image)
#   provision.sh cli    NAME 'COMMAND'     run one Asterisk CLI command (asterisk -rx) on the instance
#
# See asterisk/README.md for the environment variables (ports, credentials).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TEMPLATES="$HERE/config"
ROOT=${CALLDOCK_ASTERISK_ROOT:-${HOME:-/root}/.cache/calldock/asterisk-root}
# ROOT=/ means "no chroot": Asterisk is installed in this system itself (the Docker image).
ROOT=${ROOT%/}
DATA_DIR=/usr/share/asterisk
PACKAGES=asterisk,asterisk-modules,asterisk-core-sounds-en
MOH_SOUNDS=(demo-congrats demo-instruct)

die() { echo "provision.sh: $*" >&2; exit 1; }
note() { echo "provision.sh: $*" >&2; }
now_ms() { date +%s%3N; }

usage() {
  sed -n '3,10p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

# Run a program of the Asterisk root (inside the chroot unless ROOT is /).
in_root() {
  if [[ -z $ROOT ]]; then "$@"; else chroot "$ROOT" "$@"; fi
}

check_name() {
  [[ ${1:-} =~ ^[A-Za-z0-9][A-Za-z0-9_.-]{0,40}$ ]] || die "bad instance name '${1:-}' (letters, digits, . _ -)"
}

# ---------------------------------------------------------------------------------------------
# The sid root
# ---------------------------------------------------------------------------------------------

# Mirror for debootstrap: $CALLDOCK_DEBIAN_MIRROR, else the first non-security Debian URI this
# machine's apt uses, else debootstrap's own default. Never written into the repo.
debian_mirror() {
  if [[ -n ${CALLDOCK_DEBIAN_MIRROR:-} ]]; then echo "$CALLDOCK_DEBIAN_MIRROR"; return; fi
  local f uri
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -r $f ]] || continue
    uri=$(awk 'tolower($1) == "uris:" { for (i = 2; i <= NF; i++) if ($i !~ /security/) { print $i; exit } }' "$f")
    if [[ -n $uri ]]; then echo "$uri"; return; fi
  done
  if [[ -r /etc/apt/sources.list ]]; then
    awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^(https?|file):/) { if ($i !~ /security/) { print $i; exit } else break } }' /etc/apt/sources.list
  fi
}

# Unmount anything left mounted below a directory (a failed debootstrap), deepest first.
umount_below() {
  local dir=$1 m
  awk -v d="$dir/" 'index($2, d) == 1 { print $2 }' /proc/mounts | sort -r | while read -r m; do
    umount -l "$m" 2>/dev/null || true
  done
}

fix_ownership() {
  # The packages' dirs belong to a uid that means nothing outside the root. Calldock points
  # asterisk.conf at its own dirs, but "asterisk -r" without -C and package scripts use these.
  local d
  for d in etc/asterisk var/lib/asterisk var/spool/asterisk var/log/asterisk var/cache/asterisk run/asterisk; do
    [[ -e $ROOT/$d ]] && chown -R root:root "$ROOT/$d"
  done
  : > "$ROOT/.calldock-owned"
}

ensure_root() {
  [[ -z $ROOT ]] && return 0
  if [[ -x $ROOT/usr/sbin/asterisk ]]; then
    [[ -e $ROOT/.calldock-owned ]] || fix_ownership
    return 0
  fi
  [[ $(id -u) -eq 0 ]] || die "building the Asterisk root needs root (debootstrap, chroot)"
  mkdir -p "$(dirname "$ROOT")"
  exec 9>"$ROOT.lock"
  flock 9
  if [[ -x $ROOT/usr/sbin/asterisk ]]; then exec 9>&-; [[ -e $ROOT/.calldock-owned ]] || fix_ownership; return 0; fi
  [[ -e $ROOT ]] && die "$ROOT exists but holds no usr/sbin/asterisk: remove it and run again"
  if ! command -v debootstrap >/dev/null; then
    note "installing debootstrap"
    DEBIAN_FRONTEND=noninteractive apt-get install -y debootstrap >/dev/null 2>&1 ||
      { apt-get update >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y debootstrap >/dev/null; } ||
      die "cannot install debootstrap"
  fi
  local tmp="$ROOT.tmp" mirror t0
  t0=$(now_ms)
  umount_below "$tmp"
  rm -rf --one-file-system "$tmp"
  mirror=$(debian_mirror)
  note "building the Asterisk 22 root (Debian sid) in $tmp${mirror:+ from $mirror} (about a minute)"
  local args=(--variant=minbase "--include=$PACKAGES" sid "$tmp")
  [[ -n $mirror ]] && args+=("$mirror")
  if ! debootstrap "${args[@]}" >"$ROOT.debootstrap.log" 2>&1; then
    tail -n 20 "$ROOT.debootstrap.log" >&2
    umount_below "$tmp"
    die "debootstrap failed (full log: $ROOT.debootstrap.log)"
  fi
  umount_below "$tmp"
  [[ -x $tmp/usr/sbin/asterisk ]] || die "debootstrap finished but $tmp/usr/sbin/asterisk is missing"
  ROOT=$tmp fix_ownership
  mv -T "$tmp" "$ROOT"
  exec 9>&-
  note "root ready in $(( ($(now_ms) - t0) / 1000 )) s: $ROOT"
}

mount_proc() {
  [[ -z $ROOT ]] && return 0
  mountpoint -q "$ROOT/proc" && return 0
  exec 8>"$ROOT.lock"
  flock 8
  mountpoint -q "$ROOT/proc" || mount -t proc proc "$ROOT/proc"
  exec 8>&-
}

module_dir() {
  local d
  for d in "$ROOT"/usr/lib/*/asterisk/modules "$ROOT"/usr/lib/asterisk/modules; do
    if [[ -e $d/chan_pjsip.so ]]; then echo "${d#"$ROOT"}"; return; fi
  done
  die "no Asterisk module directory (with chan_pjsip.so) under $ROOT/usr/lib"
}

# ---------------------------------------------------------------------------------------------
# Instances
# ---------------------------------------------------------------------------------------------

# Sets the globals describing instance NAME: INST (host path), IPATH (path inside the root), ...
instance_paths() {
  NAME=$1
  IPATH=/calldock/$NAME
  INST=$ROOT$IPATH
  CONF=$IPATH/etc/asterisk.conf
  PIDFILE=$INST/run/asterisk.pid
  ENVFILE=$INST/instance.env
  LOG_FILE=$INST/log/messages
  OUT_FILE=$INST/log/asterisk.out
}

# Serialise start/stop of one instance (parallel test set-ups). fd 7 is closed for Asterisk itself.
lock_instance() {
  mkdir -p "$ROOT/calldock"
  exec 7>"$ROOT/calldock/.$NAME.lock"
  flock -w 90 7 || die "$NAME: another provision.sh holds $ROOT/calldock/.$NAME.lock"
}

# Ports, credentials and bind address of a role, from the environment (role defaults).
role_settings() {
  ROLE=$1
  case $ROLE in
    main)
      HTTP_PORT=${ASTERISK_HTTP_PORT:-8088}; SIP_PORT=${ASTERISK_SIP_PORT:-5060}
      RTP_START=${ASTERISK_RTP_START:-10000}; RTP_END=${ASTERISK_RTP_END:-14999} ;;
    carrier)
      HTTP_PORT=${ASTERISK_HTTP_PORT:-8090}; SIP_PORT=${ASTERISK_SIP_PORT:-5080}
      RTP_START=${ASTERISK_RTP_START:-15000}; RTP_END=${ASTERISK_RTP_END:-19999} ;;
    *) die "unknown role '$ROLE' (main or carrier)" ;;
  esac
  BIND_ADDR=${ASTERISK_BIND_ADDR:-127.0.0.1}
  MAIN_SIP_HOST=${MAIN_SIP_HOST:-127.0.0.1}
  MAIN_SIP_PORT=${MAIN_SIP_PORT:-5060}
  ARI_USER=${ARI_USER:-calldock}
  ARI_PASSWORD=${ARI_PASSWORD:-calldock-dev-secret}
  local p
  for p in HTTP_PORT SIP_PORT RTP_START RTP_END MAIN_SIP_PORT; do
    [[ ${!p} =~ ^[0-9]{1,5}$ && ${!p} -ge 1 && ${!p} -le 65535 ]] || die "$p='${!p}' is not a port"
  done
  (( RTP_START < RTP_END )) || die "RTP range $RTP_START-$RTP_END is empty"
  [[ $BIND_ADDR =~ ^[0-9a-fA-F.:]+$ ]] || die "ASTERISK_BIND_ADDR='$BIND_ADDR' is not an IP address"
  [[ $MAIN_SIP_HOST =~ ^[A-Za-z0-9.:-]+$ ]] || die "MAIN_SIP_HOST='$MAIN_SIP_HOST' is not a host"
  # These end up in Asterisk config files (where ';' starts a comment), in URLs and in instance.env.
  [[ $ARI_USER =~ ^[A-Za-z0-9._-]+$ ]] || die "ARI_USER may hold only letters, digits, . _ -"
  [[ $ARI_PASSWORD =~ ^[A-Za-z0-9._~@%+=,/-]+$ ]] || die "ARI_PASSWORD may hold only letters, digits and . _ ~ @ % + = , / -"
  # The address the probes and clients use.
  case $BIND_ADDR in 0.0.0.0|::) PROBE_ADDR=127.0.0.1 ;; *) PROBE_ADDR=$BIND_ADDR ;; esac
}

sed_escape() { printf '%s' "$1" | sed -e 's/[\\&|]/\\&/g'; }

render_file() {
  local src=$1 dst=$2 var args=()
  for var in NAME ROLE INST_DIR DATA_DIR MOD_DIR BIND_ADDR HTTP_PORT SIP_PORT RTP_START RTP_END \
             ARI_USER ARI_PASSWORD MAIN_SIP_HOST MAIN_SIP_PORT; do
    args+=(-e "s|@${var}@|$(sed_escape "${!var}")|g")
  done
  sed "${args[@]}" "$src" > "$dst.tmp"
  if grep -q '@[A-Z_]*@' "$dst.tmp"; then
    grep -n '@[A-Z_]*@' "$dst.tmp" >&2
    die "unknown placeholder left in $(basename "$dst") (template $src)"
  fi
  mv -f "$dst.tmp" "$dst"
}

# Render the role's templates into the instance's etc dir and prepare its runtime dirs.
render() {
  local role=$1 f d src
  role_settings "$role"
  # shellcheck disable=SC2034  # used by render_file through ${!var}
  INST_DIR=$IPATH
  # shellcheck disable=SC2034
  MOD_DIR=$(module_dir)
  [[ -d $TEMPLATES/common && -d $TEMPLATES/$ROLE ]] || die "templates missing in $TEMPLATES"
  for d in etc lib db spool spool/recording run log log/cdr-csv keys keys/keys moh cache; do mkdir -p "$INST/$d"; done
  rm -f "$INST"/etc/*.conf
  for src in "$TEMPLATES"/common/*.conf "$TEMPLATES/$ROLE"/*.conf; do
    render_file "$src" "$INST/etc/$(basename "$src")"
  done
  echo "$ROLE" > "$INST/role"
  # Audible music on hold: copy a few long core prompts (MOH needs at least one file).
  # (sounds/en is an absolute symlink valid only inside the root: copy from within it.)
  for f in "${MOH_SOUNDS[@]}"; do
    [[ -e $INST/moh/$f.gsm ]] || in_root cp "$DATA_DIR/sounds/en/$f.gsm" "$IPATH/moh/$f.gsm"
  done
  # A DTLS certificate for the control plane to use later (dtls_cert_file); webrtc=yes endpoints
  # auto-generate one, so the static config does not need it. Generated once per instance.
  if [[ ! -s $INST/keys/dtls.pem || ! -s $INST/keys/dtls.key ]]; then
    if command -v openssl >/dev/null; then
      openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
        -subj "/CN=calldock-$NAME" -keyout "$INST/keys/dtls.key" -out "$INST/keys/dtls.pem" >/dev/null 2>&1 ||
        note "openssl failed: no DTLS certificate for $NAME"
      chmod 600 "$INST/keys/dtls.key" 2>/dev/null || true
    else
      note "openssl not found: no DTLS certificate for $NAME"
    fi
  fi
}

# Is PID the Asterisk of this instance? (alive, not a zombie, our binary with our config, and
# not a remote console "asterisk -C ... -rx"). Builtins only: this runs in polling loops.
is_our_asterisk() {
  local pid=$1 stat comm args=() a
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  { read -r stat < "/proc/$pid/stat"; } 2>/dev/null || return 1
  stat=${stat##*) }
  [[ ${stat:0:1} != Z && ${stat:0:1} != X ]] || return 1
  { read -r comm < "/proc/$pid/comm"; } 2>/dev/null || return 1
  [[ $comm == asterisk ]] || return 1
  { mapfile -d '' args < "/proc/$pid/cmdline"; } 2>/dev/null || return 1
  for a in "${args[@]}"; do
    case $a in -r|-R|-rx|-x) return 1 ;; esac
  done
  [[ " ${args[*]} " == *" -C $CONF "* ]]
}

read_pid() {
  local pid=""
  if [[ -r $PIDFILE ]]; then read -r pid < "$PIDFILE" || true; fi
  echo "$pid"
}

running_pid() {
  local pid
  pid=$(read_pid)
  if [[ -n $pid ]] && is_our_asterisk "$pid"; then echo "$pid"; return 0; fi
  return 1
}

# The PID of the process that started as $1: setsid and chroot exec into asterisk, so normally
# the same PID. Should setsid have forked, look for the instance's asterisk by its own -C path.
find_asterisk_pid() {
  local launched=$1 i p
  for ((i = 0; i < 60; i++)); do
    if is_our_asterisk "$launched"; then echo "$launched"; return 0; fi
    if [[ ! -e /proc/$launched ]] || (( i >= 20 )); then
      for p in /proc/[0-9]*; do
        p=${p#/proc/}
        if is_our_asterisk "$p" && [[ $(readlink "/proc/$p/root") == "${ROOT:-/}" ]]; then echo "$p"; return 0; fi
      done
    fi
    sleep 0.05
  done
  return 1
}

port_in_use() { # tcp port on 127.0.0.1/BIND_ADDR answering?
  (exec 3<>"/dev/tcp/$PROBE_ADDR/$1") 2>/dev/null
}

udp_port_in_use() {
  command -v ss >/dev/null || return 1
  ss -Hlun "sport = :$1" 2>/dev/null | grep -q .
}

ari_code() {
  curl -s -o /dev/null -w '%{http_code}' --max-time 2 -u "$ARI_USER:$ARI_PASSWORD" \
    "http://$PROBE_ADDR:$HTTP_PORT/ari/asterisk/info" 2>/dev/null || true
}

show_log_tail() {
  local f
  for f in "$LOG_FILE" "$OUT_FILE"; do
    if [[ -s $f ]]; then echo "--- tail of $f" >&2; tail -n 25 "$f" >&2; fi
  done
}

write_env() {
  local pid=$1
  cat > "$ENVFILE.tmp" <<EOF
NAME=$NAME
ROLE=$ROLE
ARI_URL=http://$PROBE_ADDR:$HTTP_PORT
ARI_USER=$ARI_USER
ARI_PASSWORD=$ARI_PASSWORD
ARI_WS_URL=ws://$PROBE_ADDR:$HTTP_PORT/ari/events
SIP_WS_URL=ws://$PROBE_ADDR:$HTTP_PORT/ws
HTTP_PORT=$HTTP_PORT
SIP_HOST=$PROBE_ADDR
SIP_PORT=$SIP_PORT
RTP_START=$RTP_START
RTP_END=$RTP_END
PID=$pid
DTLS_CERT_FILE=$IPATH/keys/dtls.pem
DTLS_PRIVATE_KEY=$IPATH/keys/dtls.key
LOG_FILE=$LOG_FILE
ASTERISK_ROOT=${ROOT:-/}
ASTERISK_CONF=$CONF
EOF
  mv -f "$ENVFILE.tmp" "$ENVFILE"
}

cmd_start() {
  local role=${2:-main} pid t0 launched code deadline
  t0=$(now_ms)
  check_name "$1"
  ensure_root
  instance_paths "$1"
  lock_instance
  if pid=$(running_pid); then
    role_settings "$(cat "$INST/role" 2>/dev/null || echo "$role")"
    echo "calldock-asterisk $NAME: already running (pid $pid, ARI http://$PROBE_ADDR:$HTTP_PORT per $ENVFILE)"
    return 0
  fi
  render "$role"
  port_in_use "$HTTP_PORT" && die "$NAME: TCP port $HTTP_PORT ($PROBE_ADDR) is already in use (another Asterisk?); set ASTERISK_HTTP_PORT"
  udp_port_in_use "$SIP_PORT" && die "$NAME: UDP port $SIP_PORT is already in use; set ASTERISK_SIP_PORT"
  mount_proc
  rm -f "$PIDFILE" "$ENVFILE" "$INST/run/asterisk.ctl"
  echo "=== $(date '+%F %T') start $NAME ($ROLE)" >> "$OUT_FILE"
  if [[ -z $ROOT ]]; then
    setsid /usr/sbin/asterisk -f -U root -C "$CONF" </dev/null >>"$OUT_FILE" 2>&1 7>&- &
  else
    setsid chroot "$ROOT" /usr/sbin/asterisk -f -U root -C "$CONF" </dev/null >>"$OUT_FILE" 2>&1 7>&- &
  fi
  launched=$!
  if ! pid=$(find_asterisk_pid "$launched"); then
    show_log_tail
    kill -KILL "$launched" 2>/dev/null || true
    die "$NAME: Asterisk did not start (see $OUT_FILE)"
  fi
  echo "$pid" > "$PIDFILE"
  deadline=$(( $(now_ms) + ${ASTERISK_START_TIMEOUT:-30} * 1000 ))
  while :; do
    if ! is_our_asterisk "$pid"; then
      show_log_tail
      rm -f "$PIDFILE"
      die "$NAME: Asterisk exited during start-up (log: $LOG_FILE)"
    fi
    code=$(ari_code)
    [[ $code == 200 ]] && break
    if (( $(now_ms) > deadline )); then
      show_log_tail
      cmd_stop "$NAME" >/dev/null 2>&1 || true
      die "$NAME: ARI at http://$PROBE_ADDR:$HTTP_PORT did not answer 200 within ${ASTERISK_START_TIMEOUT:-30} s (last: ${code:-none}); stopped it"
    fi
    sleep 0.1
  done
  # ARI answers as soon as res_ari is loaded; wait until every module (res_pjsip...) is loaded so
  # callers can push configuration right away.
  asterisk_rx 20 "core waitfullybooted" >/dev/null 2>&1 || note "$NAME: 'core waitfullybooted' did not confirm"
  write_env "$pid"
  echo "calldock-asterisk $NAME ($ROLE) running: pid $pid, ARI http://$PROBE_ADDR:$HTTP_PORT, SIP udp $BIND_ADDR:$SIP_PORT, ws ws://$PROBE_ADDR:$HTTP_PORT/ws, RTP $RTP_START-$RTP_END, started in $(( $(now_ms) - t0 )) ms; env: $ENVFILE"
}

# asterisk -rx through the instance's control socket: asterisk_rx TIMEOUT_SECONDS COMMAND
asterisk_rx() {
  if [[ -z $ROOT ]]; then
    timeout "$1" /usr/sbin/asterisk -C "$CONF" -rx "$2"
  else
    timeout "$1" chroot "$ROOT" /usr/sbin/asterisk -C "$CONF" -rx "$2"
  fi
}

wait_gone() { # pid, tenths of a second
  local pid=$1 n=$2 i
  for ((i = 0; i < n; i++)); do
    is_our_asterisk "$pid" || return 0
    sleep 0.1
  done
  ! is_our_asterisk "$pid"
}

cmd_stop() {
  local pid t0
  t0=$(now_ms)
  check_name "$1"
  instance_paths "$1"
  lock_instance
  if ! pid=$(running_pid); then
    rm -f "$PIDFILE"
    echo "calldock-asterisk $NAME: stopped (was not running)"
    return 0
  fi
  asterisk_rx 5 "core stop now" >/dev/null 2>&1 || true
  if ! wait_gone "$pid" 50; then
    note "$NAME: still running after 'core stop now', sending SIGTERM to $pid"
    kill -TERM "$pid" 2>/dev/null || true
    if ! wait_gone "$pid" 30; then
      note "$NAME: still running after SIGTERM, sending SIGKILL to $pid"
      kill -KILL "$pid" 2>/dev/null || true
      wait_gone "$pid" 30 || die "$NAME: pid $pid survives SIGKILL"
    fi
  fi
  rm -f "$PIDFILE" "$INST/run/asterisk.ctl"
  echo "calldock-asterisk $NAME: stopped (pid $pid) in $(( $(now_ms) - t0 )) ms"
}

cmd_status() {
  local pid
  check_name "$1"
  instance_paths "$1"
  if pid=$(running_pid); then
    echo "calldock-asterisk $NAME: running (pid $pid)"
    return 0
  fi
  echo "calldock-asterisk $NAME: stopped"
  return 3
}

cmd_kill() {
  local pid
  check_name "$1"
  instance_paths "$1"
  if pid=$(running_pid); then
    kill -KILL "$pid"
    echo "calldock-asterisk $NAME: killed (pid $pid)"
  else
    echo "calldock-asterisk $NAME: not running"
  fi
}

cmd_cli() {
  check_name "$1"
  instance_paths "$1"
  running_pid >/dev/null || die "$NAME is not running"
  asterisk_rx 60 "$2"
}

main() {
  local cmd=${1:-}
  [[ $# -gt 0 ]] && shift
  case $cmd in
    root)
      ensure_root
      echo "calldock-asterisk root: ${ROOT:-/} ($(in_root /usr/sbin/asterisk -V 2>/dev/null || echo '?'))" ;;
    start)  [[ $# -ge 1 ]] || usage; cmd_start "$@" ;;
    stop)   [[ $# -eq 1 ]] || usage; cmd_stop "$1" ;;
    status) [[ $# -eq 1 ]] || usage; cmd_status "$1" ;;
    kill)   [[ $# -eq 1 ]] || usage; cmd_kill "$1" ;;
    cli)    [[ $# -eq 2 ]] || usage; cmd_cli "$1" "$2" ;;
    render)
      [[ $# -ge 1 ]] || usage
      check_name "$1"; ensure_root; instance_paths "$1"; render "${2:-main}"
      write_env ""
      echo "calldock-asterisk $NAME ($ROLE): config rendered in $INST/etc" ;;
    *) usage ;;
  esac
}

main "$@"
