#!/bin/sh
# The project's entrypoint for the test cluster's MariaDB image (Debian's mariadb-server): what the
# chart's MariaDB container relies on from the official image's entrypoint, no more. On an empty
# data directory it initializes one and creates the root password, the database and the user from
# MARIADB_ROOT_PASSWORD, MARIADB_DATABASE, MARIADB_USER and MARIADB_PASSWORD, with the healthcheck
# user healthcheck.sh reads; then it runs mariadbd with the container's arguments.
# Not done: MARIADB_AUTO_UPGRADE (the test cluster always starts on a new data directory), init
# scripts under /docker-entrypoint-initdb.d, the *_FILE variants, a random root password.
set -eu
case "${1:-}" in -*) set -- mariadbd "$@" ;; esac
[ "${1:-}" = mariadbd ] || exec "$@"
datadir=/var/lib/mysql
socket=/run/mysqld/mysqld.sock
if [ ! -d "$datadir/mysql" ]; then
  : "${MARIADB_ROOT_PASSWORD:?MARIADB_ROOT_PASSWORD is required on an empty data directory}"
  echo "initializing $datadir"
  mariadb-install-db --datadir="$datadir" --auth-root-authentication-method=normal --skip-test-db \
    --skip-name-resolve --default-time-zone=SYSTEM >/dev/null
  mariadbd --skip-networking --socket="$socket" --datadir="$datadir" &
  pid=$!
  tries=0
  until mariadb --protocol=socket --socket="$socket" -uroot -e 'select 1' >/dev/null 2>&1; do
    tries=$((tries + 1))
    [ "$tries" -lt 120 ] || { echo "the initializing server did not start" >&2; exit 1; }
    sleep 0.5
  done
  health=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
  sql() { printf '%s' "$1" | sed "s/'/''/g"; }
  {
    echo "SET @@SESSION.SQL_LOG_BIN=0;"
    echo "DELETE FROM mysql.global_priv WHERE user NOT IN ('mysql', 'mariadb.sys', 'root') OR host NOT IN ('localhost');"
    echo "ALTER USER 'root'@'localhost' IDENTIFIED BY '$(sql "$MARIADB_ROOT_PASSWORD")';"
    echo "CREATE USER 'root'@'%' IDENTIFIED BY '$(sql "$MARIADB_ROOT_PASSWORD")';"
    echo "GRANT ALL ON *.* TO 'root'@'%' WITH GRANT OPTION;"
    echo "CREATE USER 'healthcheck'@'localhost' IDENTIFIED BY '$health';"
    echo "GRANT USAGE ON *.* TO 'healthcheck'@'localhost';"
    if [ -n "${MARIADB_DATABASE:-}" ]; then
      echo "CREATE DATABASE IF NOT EXISTS \`$MARIADB_DATABASE\`;"
    fi
    if [ -n "${MARIADB_USER:-}" ]; then
      echo "CREATE USER '$(sql "$MARIADB_USER")'@'%' IDENTIFIED BY '$(sql "${MARIADB_PASSWORD:?MARIADB_PASSWORD is required with MARIADB_USER}")';"
      [ -z "${MARIADB_DATABASE:-}" ] || echo "GRANT ALL ON \`$MARIADB_DATABASE\`.* TO '$(sql "$MARIADB_USER")'@'%';"
    fi
    echo "FLUSH PRIVILEGES;"
  } | mariadb --protocol=socket --socket="$socket" -uroot
  printf '[mariadb-client]\nport=3306\nsocket=%s\nuser=healthcheck\npassword=%s\nprotocol=socket\n' "$socket" "$health" >"$datadir/.my-healthcheck.cnf"
  kill "$pid"
  wait "$pid" || true
  echo "initialized"
fi
exec "$@"
