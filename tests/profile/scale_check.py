#!/usr/bin/env python3
"""Every arch of a dataset measured exactly once: reads h5dump's raw dumps of /archs/id and
/results (no h5py needed) and checks that every row is done, its arch_id equals /archs/id and the
ids are unique; with --measured N (the "rows measured" count summed over all runs' ranks, from
esm profile's logs) also that no row was measured twice; with --kept BEFORE.bin (a /results dump
taken before a resume) that every row done before is byte-identical now. Prints rows per run and
per rank.
  scale_check.py IDS.bin RESULTS.bin [--measured N] [--kept BEFORE.bin]
  scale_check.py IDS.bin RESULTS.bin --count-done     (prints the number of done rows, no check)
"""
import collections
import struct
import sys

# esm::dataset::result_row (docs/dataset.md): arch_id, 12 doubles, then status, run, rank (int32).
# h5dump -b FILE writes its numeric fields only, 132 bytes a row (error_message is left out).
STATUS_AT = 8 + 12 * 8


def main() -> int:
    args = sys.argv[1:]
    measured = None
    if "--measured" in args:
        i = args.index("--measured")
        measured = int(args[i + 1])
        del args[i : i + 2]
    count_done = "--count-done" in args
    if count_done:
        args.remove("--count-done")
    kept = None
    if "--kept" in args:
        i = args.index("--kept")
        kept = open(args[i + 1], "rb").read()
        del args[i : i + 2]
    ids_path, results_path = args
    ids = open(ids_path, "rb").read()
    results = open(results_path, "rb").read()
    n = len(ids) // 8
    if n == 0 or len(results) % n or len(results) // n < STATUS_AT + 12:
        print(f"FAIL: /results dump of {len(results)} bytes does not hold {n} rows")
        return 1
    RESULT_ROW = len(results) // n
    statuses = [struct.unpack_from("<i", results, row * RESULT_ROW + STATUS_AT)[0] for row in range(n)]
    if count_done:
        print(statuses.count(1))
        return 0
    arch_ids = struct.unpack(f"<{n}Q", ids)
    if len(set(arch_ids)) != n:
        print(f"FAIL: {n - len(set(arch_ids))} duplicate ids in /archs")
        return 1
    per_run = collections.Counter()
    per_rank = collections.Counter()
    bad = []
    for row in range(n):
        base = row * RESULT_ROW
        (arch_id,) = struct.unpack_from("<Q", results, base)
        status, run, rank = struct.unpack_from("<iii", results, base + STATUS_AT)
        if status != 1 or arch_id != arch_ids[row]:
            bad.append((row, status, arch_id == arch_ids[row]))
        per_run[run] += 1
        per_rank[(run, rank)] += 1
    if bad:
        print(f"FAIL: {len(bad)} of {n} rows not done or with another arch_id; first: row {bad[0][0]} status {bad[0][1]}")
        return 1
    if measured is not None and measured != n:
        print(f"FAIL: the runs measured {measured} rows for {n} archs (a row measured twice, or one lost)")
        return 1
    kept_rows = 0
    if kept is not None:
        for row in range(len(kept) // RESULT_ROW):
            base = row * RESULT_ROW
            (status,) = struct.unpack_from("<i", kept, base + STATUS_AT)
            if status != 1:
                continue
            if kept[base : base + RESULT_ROW] != results[base : base + RESULT_ROW]:
                print(f"FAIL: row {row} was done before the resume and changed")
                return 1
            kept_rows += 1
        print(f"ok: the {kept_rows} rows done before the resume are unchanged")
    counts = sorted(per_rank.values())
    print(f"ok: {n} archs, each done once; rows per run {dict(sorted(per_run.items()))}; "
          f"{len(per_rank)} (run, rank) writers, rows each min {counts[0]} median {counts[len(counts) // 2]} max {counts[-1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
