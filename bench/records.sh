#!/usr/bin/env bash
# The record layer beside cJSON: ora-rec verify must be >= 4x the rate at
# which cJSON parses the same payloads (issue 2).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
n=$(scaled 1000000)
f=$BENCH_TMP/records-$n.rec
if [[ ! -s $f ]]; then
  "$BB/genmsgs" "$n" 1 | ora-rec pack -o "$f"
fi
bytes=$(stat -c %s "$f")
cat "$f" >/dev/null   # page cache
tv=$(median_secs "ora-rec verify -i '$f'")
tj=$(median_secs "'$BB/cjson_parse' < '$f'")
rv=$(rate "$n" "$tv"); rj=$(rate "$n" "$tj")
echo "### Record layer (issue 2)"
echo
echo "$n MSG records, $((bytes / n)) bytes each on average ($((bytes >> 20)) MiB); median of $BENCH_RUNS runs."
echo
echo "| what | seconds | records/s | vs cJSON |"
echo "|---|---|---|---|"
echo "| cJSON parse of the payloads (baseline) | $tj | $rj | 1.00 |"
echo "| \`ora-rec verify\` (every checksum) | $tv | $rv | $(ratio "$rv" "$rj") |"
echo
