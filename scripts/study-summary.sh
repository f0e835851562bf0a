#!/usr/bin/env bash
# Mean, standard deviation and standard error of the test accuracy per setting of the results
# study, from docs/study/runs.csv (docs/study/README.md). A setting is a row id without its
# `-s<seed>` suffix; the table is Markdown, in percent, one line per setting in file order.
#
#   scripts/study-summary.sh [runs.csv]
set -euo pipefail
cd "$(dirname "$0")/.."
CSV=${1:-docs/study/runs.csv}
[ -f "$CSV" ] || { echo "study-summary.sh: $CSV not found" >&2; exit 2; }
awk -F, '
# The same arithmetic, in the same order, as bnngen::train::study::summarize (accuracy times
# 100 per run, the mean, then the squared deviations), so the table rounds as the test
# that compares it with docs/results.md does.
NR == 1 { next }
{
    setting = $1; sub(/-s[0-9]+$/, "", setting)
    if (!(setting in n)) order[++k] = setting
    n[setting]++; acc[setting, n[setting]] = 100 * $9; sum[setting] += 100 * $9
    seeds[setting] = seeds[setting] (seeds[setting] == "" ? "" : " ") $3
    bits[setting] = $8
}
END {
    print "| setting | runs (seeds) | stored weight bits | mean test accuracy | std | std error |"
    print "| --- | --- | --- | --- | --- | --- |"
    for (i = 1; i <= k; i++) {
        s = order[i]; m = sum[s] / n[s]
        if (n[s] > 1) {
            v = 0
            for (j = 1; j <= n[s]; j++) v += (acc[s, j] - m) ^ 2
            sd = sqrt(v / (n[s] - 1))
            printf "| `%s` | %d (%s) | %s | %.2f%% | %.2f | %.2f |\n", s, n[s], seeds[s], bits[s], m, sd, sd / sqrt(n[s])
        } else
            printf "| `%s` | 1 (%s) | %s | %.2f%% | - | - |\n", s, seeds[s], bits[s], m
    }
}' "$CSV"
