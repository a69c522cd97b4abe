#!/usr/bin/env bash
# The runtime directory of `make run` and `make demo` (sourced by
# util/run.sh and examples/worker/demo.sh; bash), and nginx with the
# example config for the tests that need one (runtime_start; sourced by
# the shell scripts, run by the others: see the end).
#
# nginx started as root runs its worker processes as an unprivileged user
# (here nobody), and they open the store, so every directory on the way
# to it must let that user through. A clone in root's home (mode 700), or
# in any private directory, does not. Then the runtime directory (conf,
# store, temp files, pid) goes to /var/tmp/ngx_durable-<hash of the clone
# path>/ instead: one per clone, kept across reboots like a store should
# be. Started by another user, nginx cannot change users: its worker
# processes run as that user, who can reach the clone, and the clone is
# used.

RUNTIME_USER=nobody

# runtime_port_free PORT COMMAND [VARIABLE [EXAMPLE]]: fail, saying so,
# when PORT is not a port number or something already answers on
# 127.0.0.1:PORT (nginx would retry for seconds, and a check against it
# would test the wrong server); VARIABLE (PORT) is the make variable
# that sets it, EXAMPLE (9090) another port to suggest
runtime_port_free() {
    local port=$1 what=$2 var=${3:-PORT} example=${4:-9090}

    case "$port" in
        ''|*[!0-9]*) echo "$what: $var=$port is not a port number" >&2
                     return 1 ;;
    esac
    if [ "$port" -lt 1 ] || [ "$port" -gt 65535 ]; then
        echo "$what: $var=$port is not a port number" >&2
        return 1
    fi
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
        echo "$what: 127.0.0.1:$port is in use (another make run or" \
             "make demo?): stop it, or use another port, e.g." \
             "$var=$example $what" >&2
        return 1
    fi
}

# runtime_user_reaches DIR: whether the worker user can search DIR (and
# so every directory above it)
runtime_user_reaches() {
    setpriv --reuid="$(id -u "$RUNTIME_USER")" \
            --regid="$(id -g "$RUNTIME_USER")" --clear-groups \
            test -x "$1" 2>/dev/null
}

# runtime_prefix ROOT REL: print the runtime directory for ROOT/REL (ROOT
# the clone), creating it; when it is not ROOT/REL, say why on stderr
runtime_prefix() {
    local root=$1 rel=$2 base dir

    dir=$root/$rel
    (umask 022 && mkdir -p "$dir")
    if [ "$(id -u)" != 0 ]; then
        printf '%s\n' "$dir"
        return
    fi
    # root's umask may be 077: the worker processes need to get in
    chmod 755 "$dir"
    if runtime_user_reaches "$dir"; then
        printf '%s\n' "$dir"
        return
    fi
    rmdir "$dir" 2>/dev/null || true

    base=/var/tmp/ngx_durable-$(printf '%s' "$root" | sha256sum | cut -c1-16)

    # /var/tmp is writable by everyone: use the directory only if root
    # made it (not a link, root's, writable by root alone)
    mkdir -m 755 "$base" 2>/dev/null || true
    if [ -L "$base" ] || [ ! -d "$base" ] || [ "$(stat -c %u "$base")" != 0 ] \
       || [ -n "$(find "$base" -maxdepth 0 -perm /022)" ]
    then
        echo "$base is not a directory that root owns and alone can" \
             "write: remove it" >&2
        return 1
    fi

    dir=$base/$rel
    (umask 022 && mkdir -p "$dir")
    chmod 755 "$dir"
    if ! runtime_user_reaches "$dir"; then
        echo "$RUNTIME_USER (nginx's worker user) cannot reach $dir" >&2
        return 1
    fi
    echo "$RUNTIME_USER (nginx's worker user) cannot reach $root/$rel:" \
         "using $dir" >&2
    printf '%s\n' "$dir"
}

# runtime_conf CONF PORT MODULE_SO [GRPC_PORT]: CONF for this run on
# stdout: the module by its path, the port, the gRPC port (without one, a
# port nobody listens on now), and as root the worker user named, so that
# it is the user runtime_prefix checked for
runtime_conf() {
    local conf=$1 port=$2 module=$3 grpc=${4:-} user=

    if [ -z "$grpc" ]; then
        grpc=$(python3 -c 'import socket; s = socket.socket();
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    fi
    if [ "$(id -u)" = 0 ]; then
        user="user $RUNTIME_USER $(id -gn "$RUNTIME_USER");"
    fi
    sed -e "s|^load_module .*|load_module $module;\n$user|" \
        -e "s/127\\.0\\.0\\.1:8080/127.0.0.1:$port/" \
        -e "s/127\\.0\\.0\\.1:4001/127.0.0.1:$grpc/" "$conf"
}

# runtime_store_owner PREFIX: as root, hand a store left by an earlier run
# of another user (data/) to the worker user; nginx makes a new one its
# own, but not the files in an old one
runtime_store_owner() {
    if [ "$(id -u)" = 0 ] && [ -d "$1/data" ]; then
        chown -R "$RUNTIME_USER:$(id -gn "$RUNTIME_USER")" "$1/data"
    fi
}

# runtime_start WHAT REL [KEY WORKER_KEY]: nginx in the background with
# examples/nginx.conf for a test (WHAT names it in messages), set up as
# make run sets it up but in a fresh runtime directory (the clone's REL, or
# where runtime_prefix says) on a free port: the OpenAPI document and the
# dashboard where the config serves them, and with KEY and WORKER_KEY
# those keys instead of anonymous access. Returns once nginx answers and
# has written its pid file (it holds its sockets). Sets RUNTIME_DIR,
# RUNTIME_PORT, RUNTIME_URL and RUNTIME_PID; nginx logs to
# $RUNTIME_DIR/nginx.log. NGINX (default /usr/sbin/nginx) and MODULE_SO
# say what runs. Call runtime_stop on every way out (an EXIT trap).
runtime_start() {
    local what=$1 rel=$2 key=${3:-} worker_key=${4:-} root conf code
    local nginx=${NGINX:-/usr/sbin/nginx}
    local module=${MODULE_SO:-}

    root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
    module=${module:-$root/build/nginx/objs/ngx_http_durable_module.so}

    [ -f "$module" ] || { echo "$what: no $module: make build" >&2;
                          return 1; }

    # a port nobody listens on now (the kernel's choice, then released)
    RUNTIME_PORT=$(python3 -c 'import socket; s = socket.socket();
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    RUNTIME_URL=http://127.0.0.1:$RUNTIME_PORT

    RUNTIME_DIR=$(runtime_prefix "$root" "$rel") || return 1
    rm -rf "$RUNTIME_DIR"
    (umask 022 && mkdir -p "$RUNTIME_DIR/conf" "$RUNTIME_DIR/ui")
    install -m 644 "$root/docs/openapi.yaml" "$RUNTIME_DIR/openapi.yaml"
    install -m 644 "$root"/ui/* "$RUNTIME_DIR/ui/"

    conf=$RUNTIME_DIR/conf/nginx.conf
    runtime_conf "$root/examples/nginx.conf" "$RUNTIME_PORT" "$module" \
        > "$conf"

    if [ -n "$key$worker_key" ]; then
        # both or neither; key characters that need no quoting anywhere
        case "$key/$worker_key" in
            /*|*/|*[!A-Za-z0-9._~/-]*|*/*/*)
                echo "$what: keys are KEY WORKER_KEY, both given, of" \
                     "letters, digits, '.', '_', '~' and '-'" >&2
                return 1 ;;
        esac
        sed -i "s/durable_task_anonymous  *on;/durable_task_keys $key;\
 durable_task_worker_keys $worker_key;/" "$conf"
        grep -q "durable_task_keys $key" "$conf" \
            || { echo "$what: could not set keys in the example config" >&2;
                 return 1; }
    fi

    # more stores for a test: RUNTIME_STORES, durable_task_store lines;
    # RUNTIME_PREPARE, a command run in the runtime directory first
    if [ -n "${RUNTIME_STORES:-}" ]; then
        (cd "$RUNTIME_DIR" && eval "${RUNTIME_PREPARE:-:}")
        printf '%s\n' "$RUNTIME_STORES" > "$RUNTIME_DIR/conf/stores"
        sed -i "/^ *durable_task_store  *default /r $RUNTIME_DIR/conf/stores" \
            "$conf"
    fi

    # nginx takes $NGINX for the sockets of a binary upgrade
    env -u NGINX "$nginx" -p "$RUNTIME_DIR/" -c conf/nginx.conf -e stderr \
        -g 'daemon off;' > "$RUNTIME_DIR/nginx.log" 2>&1 &
    RUNTIME_PID=$!

    # up: the plain location answers, the pid file is written (nginx
    # holds its sockets), and the API answers from an open store (200,
    # or 401 with keys; 503 while the store cannot be opened)
    code=000
    for _ in $(seq 100); do
        code=$(curl -s -o /dev/null -w '%{http_code}' "$RUNTIME_URL/" \
               || true)
        if [ "$code" = 200 ] && [ -s "$RUNTIME_DIR/nginx.pid" ]; then
            code=$(curl -s -o /dev/null -w '%{http_code}' \
                   "$RUNTIME_URL/runtime/webhooks/durabletask/instances?top=1" \
                   || true)
            case "$code" in 200|401) return 0 ;; esac
        fi
        kill -0 "$RUNTIME_PID" 2>/dev/null || break
        sleep 0.1
    done

    echo "$what: nginx does not answer on port $RUNTIME_PORT ($code)" >&2
    tail -n 20 "$RUNTIME_DIR/nginx.log" >&2
    return 1
}

# runtime_stop: stop what runtime_start started, if it runs
runtime_stop() {
    if [ -n "${RUNTIME_PID:-}" ] && kill -0 "$RUNTIME_PID" 2>/dev/null; then
        kill -TERM "$RUNTIME_PID" 2>/dev/null || true
        wait "$RUNTIME_PID" 2>/dev/null || true
    fi
    RUNTIME_PID=
}

# Run rather than sourced, for tests in other languages:
#   util/runtime.sh serve WHAT REL [KEY WORKER_KEY]
# runtime_start, then one line "PORT RUNTIME_DIR" on stdout, then nginx
# runs until this script gets SIGTERM (or SIGINT), which stops it.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    set -euo pipefail

    [ "${1:-}" = serve ] && [ $# -ge 3 ] \
        || { echo "usage: $0 serve WHAT REL [KEY WORKER_KEY]" >&2; exit 2; }
    shift

    trap runtime_stop EXIT
    trap 'exit 143' TERM
    trap 'exit 130' INT

    runtime_start "$@"
    echo "$RUNTIME_PORT $RUNTIME_DIR"
    wait "$RUNTIME_PID"
fi
