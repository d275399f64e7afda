#!/bin/sh
# The project's healthcheck.sh for the test cluster's MariaDB image: the two checks the chart's
# probes name, as the official image's script defines them, with the healthcheck user the
# entrypoint created. --connect: the server accepts a connection; --innodb_initialized: InnoDB is up.
set -eu
cnf=/var/lib/mysql/.my-healthcheck.cnf
[ -f "$cnf" ] || exit 1
for check in "$@"; do
  case "$check" in
  --connect) mariadb --defaults-extra-file="$cnf" -e 'select 1' >/dev/null ;;
  --innodb_initialized)
    [ "$(mariadb --defaults-extra-file="$cnf" -Nse "select 1 from information_schema.ENGINES where engine = 'InnoDB' and support in ('YES', 'DEFAULT', 'ENABLED')")" = 1 ] ;;
  *) echo "healthcheck.sh: unsupported check $check" >&2; exit 2 ;;
  esac
done
