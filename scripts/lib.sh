# shellcheck shell=bash
# Shared helpers for the test-server scripts. Source it; do not run it.

# Prints a TCP port on 127.0.0.1 that nothing listens on right now.
free_port() {
  node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"
}

# wait_for DESCRIPTION SECONDS COMMAND...: retries COMMAND until it succeeds or time runs out.
wait_for() {
  local what=$1 seconds=$2
  shift 2
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then
      echo "timed out after ${seconds}s waiting for $what" >&2
      return 1
    fi
    sleep 0.2
  done
}

# running PID: the process exists and has not exited. A server whose starting script has exited
# is reparented to PID 1, and on these machines PID 1 reaps exited children only every second or
# so: `kill -0` alone would count the zombie as running.
running() {
  local state
  state=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null) || return 1
  [ "${state%% *}" != Z ]
}

# started_at PID: when the process started (clock ticks after boot, /proc/PID/stat's 22nd field).
# With its PID it names one process: a PID is reused only by a process started later.
started_at() {
  local stat fields
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  # The fields after the command's name, which may hold spaces: the state is the 3rd field.
  read -r -a fields <<<"${stat##*) }"
  echo "${fields[19]}"
}

# same_process PID [STARTED]: true while PID runs and, with STARTED (started_at), is still that
# process: a PID is reused only by a process started later.
same_process() {
  running "$1" && { [ -z "${2:-}" ] || [ "$(started_at "$1")" = "$2" ]; }
}

# stop_pid PID [GRACE] [STARTED]: stops a process we started, by the PID we recorded: TERM, then
# KILL after GRACE seconds, and returns once it is gone. With STARTED (started_at when it was
# started), a PID that now names another process (ours ended, the PID was reused) is left alone.
stop_pid() {
  local pid=$1 grace=${2:-20} started=${3:-}
  same_process "$pid" "$started" || return 0
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + grace))
  while running "$pid"; do
    if ((SECONDS >= deadline)); then
      kill -KILL "$pid" 2>/dev/null || true
      # Gone within moments; a process stuck in the kernel (D state) may take longer, not forever.
      deadline=$((SECONDS + 10))
      while running "$pid" && ((SECONDS < deadline)); do sleep 0.1; done
      break
    fi
    sleep 0.1
  done
}

# start_process NAME COMMAND...: runs it in the background, logging to $dir/NAME.log, its PID in
# $dir/NAME.pid and its start in $dir/NAME.started (the caller's `dir`), so that stop_process
# stops exactly what was started.
# shellcheck disable=SC2154 # dir is the sourcing script's working directory, set before any call
start_process() {
  local name=$1
  shift
  # 9<&-: a server never keeps a lock the script holds (hold_lock).
  "$@" >"$dir/$name.log" 2>&1 9<&- &
  echo $! >"$dir/$name.pid"
  started_at $! >"$dir/$name.started" || true
}

# stop_process NAME [GRACE]: stops what start_process NAME started in $dir, if anything and if it
# is still that process.
# shellcheck disable=SC2154 # dir, as for start_process
stop_process() {
  local pid_file=$dir/$1.pid started=
  [ -f "$pid_file" ] || return 0
  if [ -f "$dir/$1.started" ]; then
    started=$(cat "$dir/$1.started")
    # Recorded empty: the process had ended before its start was read, so nothing of ours runs.
    [ -n "$started" ] || return 0
  fi
  stop_pid "$(cat "$pid_file")" "${2:-20}" "$started"
}

# run_child COMMAND...: runs COMMAND and returns its status, for a wrapper whose EXIT trap cleans
# up after it. A TERM sent to the wrapper alone (a supervisor stopping it) reaches COMMAND at once,
# where a command run in the foreground would keep the wrapper, and its cleanup, waiting until it
# ended by itself; the wrapper's status is then 143. Ctrl-C's INT reaches COMMAND with the whole
# process group already: the wrapper waits for it to end, then returns 130. Signals that come once
# COMMAND has ended no longer stop the wrapper, so they never cut its cleanup short: they are noted
# in run_child_late (143 or 130), for a script that goes on after COMMAND (run_and_go_on).
# Not closed: a Ctrl-C in the millisecond between the start of COMMAND and its INT being undone
# leaves COMMAND running, which a second Ctrl-C stops.
# --tree: the TERM reaches the processes below COMMAND too, down to a wrapper nested inside (which
# passes it on itself once its command runs), for a wrapper around any command: mocha's launcher
# passes on only INT, so its test process ran on without the servers. Before its cleanup the
# wrapper waits for them (wait_reached): a nested wrapper to its end, the others 20 s, then KILL.
run_child() {
  local child status signalled=0 passed=0 tree=0 reached=()
  if [ "$1" = --tree ]; then
    tree=1
    shift
  fi
  trap 'signalled=143; [ -z "${child:-}" ] || { passed=1; pass_term "$child" "$tree"; }' TERM
  trap 'signalled=130' INT
  # In a shell without job control, a command run in the background ignores INT and QUIT and reads
  # /dev/null: both undone, so that it behaves as in the foreground.
  env --default-signal=INT,QUIT "$@" <&0 &
  child=$!
  # A signal between the traps and the line above found no command to pass on to (Ctrl-C's INT
  # reached the process group before the command was in it): a TERM tells it now.
  ((signalled == 0 || passed == 1)) || pass_term "$child" "$tree"
  while :; do
    status=0
    wait "$child" || status=$?
    # Returned early for a signal this shell trapped, while the command still runs: wait again.
    ((status > 128)) && kill -0 "$child" 2>/dev/null && continue
    break
  done
  # Reaped: a TERM from here on must not walk what may by now be another process's PID.
  child=
  # From here on a signal is caught and only noted: it no longer stops the wrapper, whose cleanup
  # follows (a nested wrapper gets the group's TERM and the outer one's). Not '': the cleanup's
  # commands would inherit the signal ignored.
  trap 'run_child_late=143' TERM
  trap 'run_child_late=130' INT
  wait_reached
  ((signalled == 0)) || return "$signalled"
  return "$status"
}

# end_on_signals CLEANUP: for a wrapper, CLEANUP as the EXIT trap, and INT and TERM ending the
# script (130, 143) until run_child takes them over. Once CLEANUP has begun, those sent to the
# wrapper alone are ignored: a second TERM (a supervisor repeating it, an outer wrapper passing one
# on) used to cut it short, leaving its servers running. ':', not '': CLEANUP's commands would
# inherit signals ignored by ''.
end_on_signals() {
  # shellcheck disable=SC2064 # CLEANUP is expanded now, on purpose
  trap "trap : INT TERM; $1" EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

# The scripts that pass a TERM on to their command and clean up after it: a TERM passed down a tree
# stops at them, so that it never cuts their cleanup short (their stop scripts trap nothing).
SELF_STOPPING=(with-test-servers with-cluster cluster-inside with-argocd build-image tier)

# self_stopping PID: true when PID runs one of SELF_STOPPING (bash SCRIPT ARGS...).
self_stopping() {
  local argv script
  mapfile -d '' -t argv 2>/dev/null <"/proc/$1/cmdline" || return 1
  script=${argv[1]:-}
  [ -n "$script" ] && [[ " ${SELF_STOPPING[*]} " == *" ${script##*/} "* ]]
}

# pass_term PID TREE: a TERM to PID and, with TREE 1, to the processes below it, down to any that
# is self_stopping. All are listed before any is signalled (a parent's end hands its children to
# init, out of reach); a process forked after the listing is missed. Those below PID are noted in
# run_child's `reached` (PID:START), for wait_reached.
pass_term() {
  local pids=("$1") i=0 task children pid start
  if [ "$2" = 1 ]; then
    while ((i < ${#pids[@]})); do
      if ! self_stopping "${pids[i]}"; then
        for task in /proc/"${pids[i]}"/task/*/children; do
          children=()
          # The list has no newline at its end: read returns 1 having read it.
          read -ra children 2>/dev/null <"$task" || true
          pids+=("${children[@]}")
        done
      fi
      i=$((i + 1))
    done
  fi
  # Added to, not replaced: a second TERM's listing no longer sees what the first one orphaned.
  # One that has already ended has no start to note, and nothing to wait for.
  for pid in "${pids[@]:1}"; do
    if start=$(started_at "$pid"); then reached+=("$pid:$start"); fi
  done
  kill -TERM "${pids[@]}" 2>/dev/null || true
}

# wait_reached: returns once the processes pass_term reached (run_child's `reached`) have ended, so
# that the wrapper's servers are not stopped from under them: a self_stopping script once its
# cleanup is done, the others within 20 s of one deadline, then KILL.
wait_reached() {
  local entry waiting=("${reached[@]}") still deadline=$((SECONDS + 20))
  while ((${#waiting[@]})); do
    still=()
    for entry in "${waiting[@]}"; do
      same_process "${entry%%:*}" "${entry#*:}" || continue
      if ((SECONDS >= deadline)) && ! self_stopping "${entry%%:*}"; then kill -KILL "${entry%%:*}" 2>/dev/null || true; fi
      still+=("$entry")
    done
    waiting=("${still[@]}")
    ((${#waiting[@]} == 0)) || sleep 0.1
  done
}

# run_and_go_on COMMAND...: run_child, for a script that goes on after COMMAND: its own TERM and INT
# traps are put back afterwards, and the status is that of a signal it got meanwhile (143 or 130),
# else COMMAND's. Under set -e, a signal thus ends the script once COMMAND has ended.
run_and_go_on() {
  local traps status=0
  traps=$(trap -p TERM INT)
  run_child_late=
  run_child "$@" || status=$?
  trap - TERM INT
  eval "$traps"
  [ -z "$run_child_late" ] || return "$run_child_late"
  return "$status"
}

# tools_cache NAME: the directory of one built tool version in the tools cache, outside the
# checkout, shared by every clone on the machine (make tools warms it).
tools_cache() {
  echo "${RECORDS_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/records-tools}/$1"
}

# lock_tools_cache NAME: holds the tools cache's lock for the tool NAME until this script exits, so
# two clones never build one tool at once, nor prune a version while another clone builds it.
# Taken before looking for a finished build: a build under way is never taken for a finished one.
lock_tools_cache() {
  hold_lock "$1"
}

# hold_lock NAME: waits for, then holds until this script exits, the lock NAME (a file in the tools
# cache, shared by every clone on the machine), saying so when another run holds it. One lock per
# script, on descriptor 9: a command that may outlive the script is run with `9<&-` (start_process
# does so for servers), so that it never keeps the lock, and the next run waiting, after the script.
hold_lock() {
  local lock
  if [ -n "${held_lock:-}" ]; then
    echo "hold_lock $1: this script holds $held_lock already (one lock per script)" >&2
    return 1
  fi
  held_lock=$1
  lock=$(tools_cache ".$1.lock")
  mkdir -p "$(dirname "$lock")"
  # Opened for reading (flock needs no more), so a lock file another user made does not stop a run.
  [ -e "$lock" ] || : >"$lock"
  exec 9<"$lock"
  flock -n 9 && return
  echo "waiting for $lock: another run on this machine holds it" >&2
  flock 9
}

# go_version WHO: the Go toolchain's version, part of the cache key of each tool built with the
# machine's Go (a build is found only by the toolchain that made it), or a clear stop when Go is missing.
go_version() {
  command -v go >/dev/null || { echo "$1: Go is needed (the tools cache is keyed by its version)" >&2; exit 1; }
  go version
}

# go_module_dir MODULE@VERSION: the module's directory in the Go module cache (downloaded once).
go_module_dir() {
  go mod download -json "$1" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p'
}

# signed_cert NAME SUBJECT USAGE [SAN]: a key and certificate signed by the test CA in $dir/pki,
# for clientAuth or serverAuth (USAGE), with subjectAltName SAN if given.
# shellcheck disable=SC2154 # dir, as for start_process
signed_cert() {
  local name=$1 subject=$2 usage=$3 san=${4:-}
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$dir/pki/$name.key" \
    -subj "$subject" -out "$dir/pki/$name.csr" 2>/dev/null
  openssl x509 -req -in "$dir/pki/$name.csr" -CA "$dir/pki/ca.crt" -CAkey "$dir/pki/ca.key" -CAcreateserial \
    -days 2 -out "$dir/pki/$name.crt" 2>/dev/null \
    -extfile <(printf 'extendedKeyUsage=%s\n' "$usage"; [ -z "$san" ] || printf 'subjectAltName=%s\n' "$san")
}

# kubeconfig FILE SERVER NAME: a kubeconfig for the test API server with the client certificate
# $dir/pki/NAME.crt (made by signed_cert).
# shellcheck disable=SC2154 # dir, as for start_process
kubeconfig() {
  local file=$1 server=$2 name=$3
  cat >"$file" <<YAML
apiVersion: v1
kind: Config
clusters:
  - name: records-test
    cluster:
      server: $server
      certificate-authority: $dir/pki/ca.crt
users:
  - name: $name
    user:
      client-certificate: $dir/pki/$name.crt
      client-key: $dir/pki/$name.key
contexts:
  - name: records-test
    context: { cluster: records-test, user: $name }
current-context: records-test
YAML
}

# buildah_in DIR ARGS...: buildah with everything it keeps under DIR: vfs storage (no overlay
# mounts to leave behind), its run state, and its network configuration directory, which it
# otherwise makes as /etc/cni/net.d on first use. stoppable_buildah_in repeats these settings:
# change both.
buildah_in() {
  local dir=$1
  shift
  [ -f "$dir/containers.conf" ] || printf '[network]\nnetwork_config_dir = "%s"\n' "$dir/cni" >"$dir/containers.conf"
  CONTAINERS_CONF=$dir/containers.conf buildah --root "$dir/storage" --runroot "$dir/run" --storage-driver vfs "$@"
}

# stoppable_buildah_in DIR ARGS...: buildah_in's buildah, run through run_and_go_on: a TERM to the
# script reaches buildah at once and the script waits for its end, so an EXIT trap that removes DIR
# never races it (left behind, DIR held buildah's storage). A signal is its status, which under
# set -e ends the script. buildah_in is left as it is: the cache keys of the tools built with it
# hash its text.
stoppable_buildah_in() {
  local dir=$1
  shift
  [ -f "$dir/containers.conf" ] || printf '[network]\nnetwork_config_dir = "%s"\n' "$dir/cni" >"$dir/containers.conf"
  run_and_go_on env CONTAINERS_CONF="$dir/containers.conf" buildah --root "$dir/storage" --runroot "$dir/run" --storage-driver vfs "$@"
}

# binary_image DIR BINARY REFERENCE ARCHIVE [LABEL=VALUE...]: an OCI archive of one static binary
# alone, as a distroless image (no shell, user 65532), run by its path (/NAME); DIR is buildah's.
binary_image() {
  local dir=$1 binary=$2 reference=$3 archive=$4 container name labels=()
  shift 4
  name=$(basename "$binary")
  for label in "$@" records.test/built-by="$(basename "$0")"; do labels+=(--label "$label"); done
  container=$(buildah_in "$dir" from scratch)
  buildah_in "$dir" copy --quiet --chmod 0755 "$container" "$binary" "/$name"
  buildah_in "$dir" config --entrypoint "[\"/$name\"]" --user 65532:65532 "${labels[@]}" "$container"
  buildah_in "$dir" commit --quiet "$container" "oci-archive:$archive:$reference" >/dev/null
}
