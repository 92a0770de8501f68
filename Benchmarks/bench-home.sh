# Sourced by the benchmarks: an lrj installation in $1 (LRJ_HOME) with an administrator, a
# magistrate and an investigator, and procedure BENCH authorised and opened; exports LRJ_HOME,
# LRJ_PASSPHRASE and LRJ_KEY (the investigator) for the lrj commands that follow.
# Usage: bench_home HOME   (needs $lrj set to the lrj binary)
bench_home() {
  local home=$1 keys=$1.keys
  rm -rf "$home" "$keys"
  mkdir -p "$keys"
  export LRJ_HOME=$home LRJ_PASSPHRASE=bench
  "$lrj" init --admin-key "$keys/admin.key" >/dev/null
  local user role
  for user in judge:magistrate opj:investigator; do
    role=${user#*:}; user=${user%%:*}
    "$lrj" user add "$user" --role "$role" --key "$keys/admin.key" \
      --public-key "$("$lrj" key generate --id "$user" --out "$keys/$user.key" | tail -1)" >/dev/null
  done
  "$lrj" authorise --procedure BENCH --kind preliminary --investigator opj --until 2099-12-31 \
    --out "$keys/bench.token" --key "$keys/judge.key" >/dev/null
  "$lrj" procedure open --token "$keys/bench.token" --key "$keys/opj.key" >/dev/null
  export LRJ_KEY=$keys/opj.key
}
