# The runtime directory of `make run` and `make demo` (sourced by
# util/run.sh and examples/worker/demo.sh; bash).
#
# nginx started as root runs its workers as an unprivileged user (here
# nobody), and the workers open the store, so every directory on the way
# to it must let that user through. A clone in root's home (mode 700), or
# in any private directory, does not. Then the runtime directory (conf,
# store, temp files, pid) goes to /var/tmp/ngx_durable-<hash of the clone
# path>/ instead: one per clone, kept across reboots like a store should
# be. Started by another user, nginx cannot change users: its workers run
# as that user, who can reach the clone, and the clone is used.

RUNTIME_USER=nobody

# runtime_port_free PORT COMMAND: fail, saying so, when PORT is not a port
# number or something already answers on 127.0.0.1:PORT (nginx would
# retry for seconds, and a check against it would test the wrong server)
runtime_port_free() {
    local port=$1 what=$2

    case "$port" in
        ''|*[!0-9]*) echo "$what: PORT=$port is not a port number" >&2
                     return 1 ;;
    esac
    if [ "$port" -lt 1 ] || [ "$port" -gt 65535 ]; then
        echo "$what: PORT=$port is not a port number" >&2
        return 1
    fi
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
        echo "$what: 127.0.0.1:$port is in use (another make run or" \
             "make demo?): stop it, or use another port, e.g." \
             "PORT=9090 $what" >&2
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
    # root's umask may be 077: the workers need to get in
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
