#!/bin/sh
# run.sh <fuzzer> <corpus> <workdir> [dict]
# Copies the seed corpus into <workdir>/corpus (so the fuzzer's new inputs never touch the tree),
# runs the libFuzzer binary on it for 20 s with a 2 GiB RSS limit, and exits with its status.
# Crash artifacts land in <workdir>/artifacts/. The dictionary is used only if the file exists.
set -u
if [ $# -lt 3 ]; then
    echo "usage: $0 <fuzzer> <corpus> <workdir> [dict]" >&2
    exit 2
fi
fuzzer=$1
corpus=$2
work=$3
dict=${4:-}

rm -rf "$work/corpus"
mkdir -p "$work/corpus" "$work/artifacts" || exit 2
if [ -d "$corpus" ]; then
    cp -R "$corpus"/. "$work/corpus"/ || exit 2
fi
set -- -max_total_time=20 -rss_limit_mb=2048 -artifact_prefix="$work/artifacts/"
if [ -n "$dict" ] && [ -f "$dict" ]; then
    set -- "$@" -dict="$dict"
fi
"$fuzzer" "$@" "$work/corpus"
exit $?
