#!/usr/bin/env bash
# Embedded mode, repeated: start the server in one DATA_DIR, mint a device with the CLI, wait until
# the API shows it, then kill -9 the whole process group (server, anvil's watchdog, anvil) at once.
# Every restart must become ready and show every device minted before. The suite runs two rounds
# (test/cli/whole-tree-kill.test.ts); this runs many. Usage: scripts/whole-tree-kill.sh [runs=20]
# from the project root. Prints one line per run; exits 1 on the first failure.
set -u
RUNS=${1:-20}
DIR=$(mktemp -d /tmp/whole-tree-kill.XXXXXX)
export DATA_DIR=$DIR/data
LOG=$DIR/server.log
PGID=""
cleanup() { [ -n "$PGID" ] && kill -KILL -- -"$PGID" 2>/dev/null; rm -rf "$DIR"; }
trap cleanup EXIT
free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
fail() { echo "FAIL run $1: $2"; tail -5 "$LOG"; exit 1; }
shown() { # serial base token -> 0 when GET by-serial answers 200
  [ "$(curl -s -m 5 -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $3" "$2/v1/aftermarket/device/by-serial/$1")" = 200 ]
}
serials=()
for run in $(seq 0 "$RUNS"); do
  port=$(free_port); base="http://127.0.0.1:$port"
  (setsid sh -c 'echo $$ >"$0"; exec env PORT="$1" ANVIL_STATE_INTERVAL=3600 npm start' "$DIR/pid" "$port" >>"$LOG" 2>&1 &)
  for _ in $(seq 1 50); do [ -s "$DIR/pid" ] && break; sleep 0.1; done
  PGID=$(cat "$DIR/pid"); rm -f "$DIR/pid"
  ready=""; for _ in $(seq 1 480); do curl -fsS -m 3 -o /dev/null "$base/ready" 2>/dev/null && { ready=1; break; }; sleep 0.5; done
  [ -n "$ready" ] || fail "$run" "restart not ready in 240 s"
  token=$(npm run -s cli -- token --sub whole-tree-kill)
  for s in "${serials[@]}"; do shown "$s" "$base" "$token" || fail "$run" "device $s, shown before the kill, is gone"; done
  [ "$run" = "$RUNS" ] && break
  serial="wtk-$run-$RANDOM"
  npm run -s cli -- devices mint --manufacturer AutoPi --serial "$serial" --dev-key >/dev/null 2>>"$LOG" || fail "$run" "CLI mint failed"
  seen=""; for _ in $(seq 1 120); do shown "$serial" "$base" "$token" && { seen=1; break; }; sleep 0.5; done
  [ -n "$seen" ] || fail "$run" "device $serial not shown within 60 s"
  kill -KILL -- -"$PGID"; while kill -0 -- -"$PGID" 2>/dev/null; do sleep 0.1; done; PGID=""
  serials+=("$serial")
  echo "run $((run + 1))/$RUNS: $serial shown, whole tree killed"
done
echo "ok: $RUNS whole-tree kills, 0 devices lost, every restart ready"
