# Sourced by the benchmarks: an lrj installation in $1 (LRJ_HOME) with an administrator, a
# magistrate and an investigator, and procedure BENCH authorised and opened; exports LRJ_HOME,
# LRJ_PASSPHRASE and LRJ_KEY (the investigator) for the lrj commands that follow, and sets
# bench_keys to the folder of the key files.
# Usage: bench_home HOME [DATABASE-URL [WORKER...]]   (needs $lrj set to the lrj binary)
#   DATABASE-URL (may be empty: embedded SQLite) puts the registry and indexes in PostgreSQL;
#   each WORKER is enrolled with the role worker (key file $bench_keys/WORKER.key).
bench_home() {
  local home=$1 database=${2:-} keys=$1.keys
  shift; [ $# -gt 0 ] && shift
  rm -rf "$home" "$keys"
  mkdir -p "$keys"
  export LRJ_HOME=$home LRJ_PASSPHRASE=bench
  "$lrj" init --admin-key "$keys/admin.key" ${database:+--database "$database"} >/dev/null
  local user role
  for user in judge:magistrate opj:investigator "${@/%/:worker}"; do
    role=${user#*:}; user=${user%%:*}
    "$lrj" user add "$user" --role "$role" --key "$keys/admin.key" \
      --public-key "$("$lrj" key generate --id "$user" --out "$keys/$user.key" | tail -1)" >/dev/null
  done
  "$lrj" authorise --procedure BENCH --kind preliminary --investigator opj --until 2099-12-31 \
    --out "$keys/bench.token" --key "$keys/judge.key" >/dev/null
  "$lrj" procedure open --token "$keys/bench.token" --key "$keys/opj.key" >/dev/null
  export LRJ_KEY=$keys/opj.key
  bench_keys=$keys
}
