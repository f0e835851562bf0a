#!/usr/bin/env bash
# The results study (docs/study/README.md), resumable one run at a time.
#
#   scripts/study.sh build          build the release fast-train binary of HEAD and copy it to
#                                   $STUDY_BIN_DIR/bnngen-<commit> (a path no later build
#                                   overwrites), print that path
#   scripts/study.sh run BIN        run every row of study/rows.txt that has no line in
#                                   docs/study/runs.csv yet, in file order, with BIN
#   scripts/study.sh status         rows done / left
#
# Each row is one `bnngen train` run. A finished run appends ONE line to docs/study/runs.csv
# (a single write of a full line, under a lock); a run that is killed or fails leaves no line,
# so the next `run` does it again. The definition is re-read before every row, so rows added
# to study/rows.txt while the runner works are picked up. The configs are read from the
# commit BIN was built from (git show), not from the work tree, so editing a config while a
# study runs cannot change what a recorded commit means. Typical start, detached from the
# shell (a session's end kills it; restart the same way, finished rows are skipped):
#
#   BIN=$(scripts/study.sh build) && nohup nice -n 19 scripts/study.sh run "$BIN" \
#       >> study/out/runner.log 2>&1 &
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
ROWS=${STUDY_ROWS:-study/rows.txt}
CSV=$(realpath -m "${STUDY_CSV:-docs/study/runs.csv}")
OUT=$(realpath -m "${STUDY_OUT:-study/out}")
BIN_DIR=${STUDY_BIN_DIR:-/work/study-bin}
HEADER='row,config,seed,front_end,m,data,init,weight_bits,test_accuracy,test_images,correct,val_accuracy,train_images,epochs,wall_s,cpu_s,threads,commit,date,command,fe_thresholds'

die() {
    echo "study.sh: $*" >&2
    exit 2
}

# Rows of the definition: "id config seed front_end m data [extra args...]", # comments.
rows() {
    grep -v '^[[:space:]]*\(#\|$\)' "$ROWS"
}

done_ids() {
    [ -f "$CSV" ] && tail -n +2 "$CSV" | cut -d, -f1 || true
}

cmd_build() {
    [ -z "$(git status --porcelain -- src Cargo.toml Cargo.lock)" ] ||
        die "src/ or Cargo files have uncommitted changes: commit first, so the binary has a commit"
    local commit
    commit=$(git rev-parse --short=12 HEAD)
    nice -n 5 cargo build --release --features fast-train --quiet >&2
    mkdir -p "$BIN_DIR"
    cp target/release/bnngen "$BIN_DIR/bnngen-$commit.tmp"
    mv "$BIN_DIR/bnngen-$commit.tmp" "$BIN_DIR/bnngen-$commit"
    echo "$BIN_DIR/bnngen-$commit"
}

cmd_status() {
    [ -f "$CSV" ] || echo "$HEADER" > "$CSV"
    awk -v csv="$CSV" 'NR == FNR { if (FNR > 1) { split($0, f, ","); done[f[1]] = 1 } next }
        /^[[:space:]]*(#|$)/ { next }
        { n++; if ($1 in done) k++ }
        END { printf "%d of %d rows done (%s)\n", k, n, csv }' "$CSV" "$ROWS"
}

# One row: train, check the report against what the row asks for, append the CSV line.
run_row() {
    local bin=$1 commit=$2 id=$3 config=$4 seed=$5 fe=$6 m=$7 data=$8
    shift 8
    # `@OUT@` in a row's arguments is the output directory: files shared between rows and
    # commits (the distillation teacher's checkpoint) live there.
    local extra=("${@//@OUT@/$OUT}")
    local cfgdir="$OUT/configs-$commit"
    mkdir -p "$cfgdir/$(dirname "$config")"
    git show "$commit:$config" > "$cfgdir/$config.tmp" 2>/dev/null ||
        { echo "$id: $config does not exist at commit $commit"; return 1; }
    mv "$cfgdir/$config.tmp" "$cfgdir/$config"
    local args=(train --config "$config" --seed "$seed"
        --set "front_end.kind=$fe" --set "front_end.levels=$m" "${extra[@]}")
    local shown="bnngen ${args[*]//$OUT/study/out} -o $id.toml --report $id.json"
    rm -f "$OUT/$id.json"
    echo "== $(date -u +%FT%TZ) $id: $shown (commit $commit)"
    local t0 t1
    t0=$(date +%s.%N)
    # The config path in the command is the repository path; the file read is that of the
    # commit (run from the extracted tree, so relative paths inside stay valid).
    if ! (cd "$cfgdir" && /usr/bin/time -f '%U %S' -o "$OUT/$id.time" \
        "$bin" "${args[@]}" -o "$OUT/$id.toml" --report "$OUT/$id.json" --quiet) \
        > "$OUT/$id.log" 2>&1; then
        echo "$id: FAILED (log $OUT/$id.log)"
        tail -n 3 "$OUT/$id.log"
        return 1
    fi
    t1=$(date +%s.%N)
    local r="$OUT/$id.json"
    local got_fe got_m got_data
    got_fe=$(jq -r .front_end "$r")
    got_m=$(jq -r .planes "$r")
    got_data=$(jq -r '.data // "plain"' "$r")
    if [ "$got_fe" != "$fe" ] || [ "$got_m" != "$m" ] || [ "$got_data" != "$data" ]; then
        echo "$id: the run trained $got_fe M=$got_m on $got_data, the row asks for $fe M=$m on $data: no line written"
        return 1
    fi
    local wall cpu line
    wall=$(echo "$t1 - $t0" | bc)
    cpu=$(awk '{printf "%.1f", $1 + $2}' "$OUT/$id.time")
    line=$(jq -r --arg id "$id" --arg config "$config" --arg data "$data" \
        --arg wall "$(printf '%.1f' "$wall")" --arg cpu "$cpu" \
        --arg threads "${RAYON_NUM_THREADS:-}" --arg commit "$commit" \
        --arg date "$(date -u +%FT%TZ)" --arg cmd "$shown" '
        [$id, $config, (.seed|tostring), .front_end, (.planes|tostring), $data,
         (if .front_end == "glt" then .init else "" end), (.weight_bits_stored|tostring),
         (.test_accuracy*1e6|round/1e6|tostring), (.test_images|tostring),
         (.test_accuracy*.test_images|round|tostring),
         (.val_accuracy[-1]*1e4|round/1e4|tostring), (.train_images|tostring),
         (.epochs|tostring), $wall, $cpu, $threads, $commit, $date,
         ("\"" + $cmd + "\""), ("\"" + (.fe_thresholds|map(tostring)|join(" ")) + "\"")]
        | join(",")' "$r")
    (
        flock 9
        if done_ids | grep -qxF "$id"; then
            echo "$id: already in $CSV (another runner?): not appended"
        else
            printf '%s\n' "$line" >> "$CSV"
        fi
    ) 9> "$OUT/csv.lock"
    echo "$id: test $(jq -r '.test_accuracy' "$r") in ${wall%.*} s wall, $cpu s CPU"
}

cmd_run() {
    local bin=${1:-}
    [ -x "$bin" ] || die "usage: scripts/study.sh run BIN (BIN from scripts/study.sh build)"
    bin=$(readlink -f "$bin")
    local commit=${bin##*/bnngen-}
    git rev-parse --verify --quiet "$commit^{commit}" > /dev/null ||
        die "$bin: the name must end in -<commit> of this repository (scripts/study.sh build)"
    mkdir -p "$OUT" "$(dirname "$CSV")"
    [ -f "$CSV" ] || echo "$HEADER" > "$CSV"
    exec 8> "$OUT/runner.lock"
    flock -n 8 || die "another runner holds $OUT/runner.lock"
    export RAYON_NUM_THREADS=${RAYON_NUM_THREADS:-2}
    local failed=" "
    while true; do
        local next=""
        while read -r id rest; do
            if ! done_ids | grep -qxF "$id" && [[ $failed != *" $id "* ]]; then
                next="$id $rest"
                break
            fi
        done < <(rows)
        if [ -z "$next" ]; then
            echo "== $(date -u +%FT%TZ) no rows left"
            cmd_status
            return 0
        fi
        # shellcheck disable=SC2086 # the row's fields are whitespace-separated on purpose
        if ! run_row "$bin" "$commit" $next; then
            failed+="${next%% *} "
        fi
    done
}

main() {
    case ${1:-} in
    build) cmd_build ;;
    run) shift && cmd_run "$@" ;;
    status) cmd_status ;;
    *) die "usage: scripts/study.sh build | run BIN | status" ;;
    esac
}

# One line, parsed whole before it runs: bash reads a script as it goes, and a runner lasts
# hours, so nothing after this line may be read once it starts (editing this file is safe).
main "$@"; exit $?
