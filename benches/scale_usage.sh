#!/bin/bash
# The scaling table of benches/README.md ("The events loader over parts, and the scaling table"):
# `wbill usage --level user --all` on generated months of 250k, 1M and 4M subscribers, on 1 and 2
# threads (THREADS to change), two rounds, beside an older build at the most threads.
#
# Usage: NEW=path/to/wbill OLD=path/to/older/wbill DATA=/work/data OUT=/tmp benches/scale_usage.sh
# DATA holds big250k/, big-time/ and big4m/, each made by
#   wbill gen --seed 42 --customers C --subscribers S --sub-partners 20 --month 2024-05 --out-dir DIR
# with C/S = 12500/250000, 50000/1000000 and 200000/4000000.
set -u
NEW=${NEW:?path of the wbill to measure}
OLD=${OLD:-}
DATA=${DATA:-/work/data}
OUT=${OUT:-/tmp}
THREADS=${THREADS:-"1 2"}
MOST=${THREADS##* }
python3 -c "
import time;t=time.time();s=0
for i in range(20_000_000): s+=i
print('calibration',round(time.time()-t,2),'s')"
for round in 1 2; do
  for d in big250k big-time big4m; do
    for t in $THREADS; do
      for b in "$NEW" "$OLD"; do
        [ -z "$b" ] && continue
        [ "$b" = "$OLD" ] && [ "$t" != "$MOST" ] && continue
        # A file replaced by the rename frees its pages in the renaming process: not the run's time;
        # the dirty pages of the run before are written back first, or the kernel's write-back
        # lands in this run's system time (1.5 s against 4-6 s at 4M).
        rm -f "$OUT/scale-$d-$(basename "$b")-$t.csv"
        sync
        r=$( { /usr/bin/time -f "%e s %U u %S s %M KB" "$b" -q --threads "$t" usage \
          --events "$DATA/$d/events.csv" --org "$DATA/$d/org.toml" --from 2024-05-01 --to 2024-05-31 \
          --level user --all --out "$OUT/scale-$d-$(basename "$b")-$t.csv"; } 2>&1 | tr '\n' ' ')
        echo "$round $d $(basename "$b") threads=$t $r"
      done
    done
  done
done
md5sum "$OUT"/scale-*.csv | awk '{print $1}' | sort | uniq -c
