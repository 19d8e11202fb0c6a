#!/usr/bin/env bash
# Entrypoint of local/postgres, a small copy of the official postgres image's one:
# on first start initdb with POSTGRES_USER/PASSWORD/DB, run /docker-entrypoint-initdb.d/*
# on a temporary socket-only server, then exec postgres as the postgres user.
set -euo pipefail

# VAR or VAR_FILE (Docker secrets), as the official image allows.
file_env() { # name [default]
    local var=$1 file_var="${1}_FILE" def=${2:-}
    if [[ -n ${!var:-} && -n ${!file_var:-} ]]; then
        echo "error: both $var and $file_var are set" >&2
        exit 1
    fi
    local val=$def
    if [[ -n ${!var:-} ]]; then val=${!var}; elif [[ -n ${!file_var:-} ]]; then val=$(<"${!file_var}"); fi
    export "$var"="$val"
    unset "$file_var"
}

setup_env() {
    file_env POSTGRES_PASSWORD
    file_env POSTGRES_USER postgres
    file_env POSTGRES_DB "$POSTGRES_USER"
    file_env POSTGRES_INITDB_ARGS
    : "${POSTGRES_HOST_AUTH_METHOD:=scram-sha-256}"
    export PGDATA=${PGDATA:-/var/lib/postgresql/data}
}

init_database() {
    if [[ -z $POSTGRES_PASSWORD && $POSTGRES_HOST_AUTH_METHOD != trust ]]; then
        echo "error: database is uninitialized and POSTGRES_PASSWORD is not set" \
            "(set it, or POSTGRES_HOST_AUTH_METHOD=trust)" >&2
        exit 1
    fi
    # shellcheck disable=SC2086 # POSTGRES_INITDB_ARGS is a list of options
    initdb --username="$POSTGRES_USER" --pwfile=<(printf '%s\n' "$POSTGRES_PASSWORD") \
        $POSTGRES_INITDB_ARGS
    echo "listen_addresses = '*'" >>"$PGDATA/postgresql.conf"
    echo "host all all all $POSTGRES_HOST_AUTH_METHOD" >>"$PGDATA/pg_hba.conf"

    # Temporary server on the Unix socket only, so clients can't connect before init is done.
    # pg_ctl sends its log to stdout (the final server logs to stderr), as upstream does.
    pg_ctl -D "$PGDATA" -o "-c listen_addresses='' -p ${PGPORT:-5432}" -w start

    export PGPASSWORD=${PGPASSWORD:-$POSTGRES_PASSWORD}
    local psql=(psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --no-password --no-psqlrc)
    if [[ $POSTGRES_DB != postgres ]]; then
        "${psql[@]}" --dbname postgres --set db="$POSTGRES_DB" <<<'CREATE DATABASE :"db";'
    fi
    local f
    for f in /docker-entrypoint-initdb.d/*; do
        case $f in
            *.sh)
                if [[ -x $f ]]; then
                    echo "$0: running $f"
                    "$f"
                else
                    echo "$0: sourcing $f"
                    set +u # init scripts written for the official image don't expect nounset
                    # shellcheck disable=SC1090
                    . "$f"
                    set -u
                fi
                ;;
            *.sql) echo "$0: running $f" && "${psql[@]}" --dbname "$POSTGRES_DB" -f "$f" ;;
            *.sql.gz) echo "$0: running $f" && gunzip -c "$f" | "${psql[@]}" --dbname "$POSTGRES_DB" ;;
            *) if [[ -e $f ]]; then echo "$0: ignoring $f"; fi ;;
        esac
    done
    unset PGPASSWORD

    pg_ctl -D "$PGDATA" -m fast -w stop
    echo
    echo 'PostgreSQL init process complete; ready for start up.'
    echo
}

# `docker run local/postgres:15 -c fsync=off` means postgres with those options.
if [[ ${1:-} == -* ]]; then set -- postgres "$@"; fi

if [[ ${1:-} == postgres ]]; then
    setup_env
    if [[ $(id -u) == 0 ]]; then
        # Fix ownership of a fresh volume or bind mount, then run as the postgres user.
        mkdir -p "$PGDATA"
        chown postgres:postgres "$PGDATA" /var/run/postgresql
        chmod 0700 "$PGDATA"
        exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
    fi
    if [[ ! -s $PGDATA/PG_VERSION ]]; then
        init_database
    else
        echo "PostgreSQL database directory appears to contain a database; skipping initialization"
    fi
fi

exec "$@"
