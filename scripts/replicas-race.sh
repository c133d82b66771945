#!/usr/bin/env bash
# Replicas started together on one empty PostgreSQL database: each try creates a database and
# starts two `devices-api migrate` at the same moment (what every replica runs first with
# MIGRATE_ON_START=true, and the step that raced: "duplicate key … pg_namespace_nspname_index").
# Both must exit 0 and every migration must be recorded once. Usage, from the project root after
# `npm run build`: scripts/replicas-race.sh [tries=10] (DATABASE_URL: the server, default
# postgres://postgres@127.0.0.1:5432/postgres; databases replicas_race_* are created and dropped).
# Prints one line per try; exits 1 if any try failed.
set -u
TRIES=${1:-10}
SERVER=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}
DIR=$(mktemp -d /tmp/replicas-race.XXXXXX)
trap 'rm -rf "$DIR"' EXIT
base=${SERVER%/*}
psqlc() { psql "$SERVER" -v ON_ERROR_STOP=1 -tAc "$1"; }
ok=0
for i in $(seq 1 "$TRIES"); do
  db=replicas_race_$$_$i
  psqlc "CREATE DATABASE $db" >/dev/null || { echo "try $i: cannot create $db"; exit 1; }
  for x in a b; do
    (DATABASE_URL="$base/$db" node bin/devices-api.mjs migrate >"$DIR/$i$x.log" 2>&1; echo $? >"$DIR/$i$x.rc") &
  done
  wait
  applied=$(psql "$base/$db" -tAc 'select count(*) || chr(47) || count(distinct hash) from drizzle.__drizzle_migrations' 2>&1)
  psqlc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null
  a=$(cat "$DIR/${i}a.rc"); b=$(cat "$DIR/${i}b.rc")
  if [ "$a" = 0 ] && [ "$b" = 0 ] && [ "${applied%/*}" = "${applied#*/}" ]; then
    ok=$((ok + 1)); echo "try $i: both exited 0; migrations recorded/distinct $applied"
  else
    echo "try $i: FAILED: exits $a and $b, migrations $applied"
    for x in a b; do tail -2 "$DIR/$i$x.log"; done
  fi
done
echo "$ok of $TRIES tries: both replicas migrated"
[ "$ok" = "$TRIES" ]
