#!/usr/bin/env bash
# Runs on the lent GPU machine (see README.md here for the call sequence). Usage: bash benchmarks/gpu/device.sh PART
#   stage        move this call's wheel batch into place (installs once a stack is complete)
#   ours         install what is staged, build the workload, run ours-staleness1 and ours-staleness0
#   verl         run verl-sync (stock verl.trainer.main_ppo); print the table
#   tests        the GPU-marked tests (tests/gpu)
# Everything it measures lands in $OUT (results JSON lines, logs).
set -u
PART=${1:?stage|ours|verl}
export KIT_HOME=/tmp/kit SITE=/tmp/site
bash .whl/kit/install_on_device.sh verl vllm vsrv; echo "kit_rc=$?"
[ "$PART" = stage ] && exit 0

export PYTHONPATH=$SITE:$PWD VLLM_USE_FLASHINFER_SAMPLER=0 HF_HUB_OFFLINE=1 VLLM_NO_USAGE_STATS=1 PYTHONUNBUFFERED=1
export VERL_PIPELINE_CACHE=/tmp/vpcache VERL_USE_EXTERNAL_MODULES=verl_pipeline.plugins RAY_DEDUP_LOGS=0
# verl forwards these to every Ray actor unless the launching shell sets them: keep vLLM's torch.compile cache
# between the runs of one machine (verl disables it) and log the engine's start-up phases (verl says WARN)
export VLLM_DISABLE_COMPILE_CACHE=0 VLLM_LOGGING_LEVEL=INFO
# the code reward's sandbox: bubblewrap from a carried .deb (the image has none); Landlock is the fallback
[ -x /tmp/bw/usr/bin/bwrap ] || dpkg -x .whl/deb/bubblewrap_*.deb /tmp/bw
export PATH=/tmp/bw/usr/bin:$PATH
# the verl.plugins entry point (stock verl.trainer.main_ppo finds our reward manager through it)
python3 -m pip install -q --no-deps --no-build-isolation --no-index -e . 2>&1 | tail -3
GPU_MIB=$(nvidia-smi --query-gpu=memory.total --format=csv,noheader,nounits | head -1)
# vLLM's share of the one GPU: 0.4 of an H200 (~56 GiB), less on an 80 GiB card (the trainer needs ~45 GiB)
MEM=0.4; [ "${GPU_MIB:-0}" -lt 100000 ] && MEM=0.25
R=$OUT/gpu-results.jsonl
B="python3 benchmarks/gpu/one_gpu.py"
# GRAPHS=compiled (verl's default: torch.compile + CUDA graphs, the slowest start), decode (CUDA graphs for
# decode batches without torch.compile: a fast start and fast decoding), none (eager: slow decoding)
EXTRA="--graphs ${GRAPHS:-compiled}"
STEPS=${STEPS:-6}; WARMUP=${WARMUP:-2}
run() {
  # its own session, so what it leaves (vLLM workers, compile workers) is ended by its group id, never by name
  setsid $B run --bench /tmp/vpbench --results "$R" --gpu-memory $MEM --timeout "$2" --config "$1" \
     --steps "$STEPS" --warmup "$WARMUP" $EXTRA &
  local pid=$!
  wait $pid
  kill -9 -- -$pid 2>/dev/null; sleep 2
}
case $PART in
  ours)
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
    # byte-compile the freshly installed stacks once, in parallel: every Ray actor and vLLM process imports them
    python3 -m compileall -q -j 16 "$SITE" >/dev/null 2>&1
    $B build --out /tmp/vpbench || exit 1
    cp /tmp/vpbench/workload.json "$OUT/"
    run ours-staleness1 330
    run ours-staleness0 270
    ;;
  verl)
    run verl-sync 270
    ;;
  tests)
    # pytest -q prints at the end: tee, so a run cut off by the timeout still leaves its output
    timeout 240 python3 -m pytest -rA -x -p no:cacheprovider tests/gpu 2>&1 | tee "$OUT/pytest-gpu.txt" | tail -15
    ;;
esac
# logs: the runs' own, and Ray's error streams (trimmed)
find /tmp/vpbench -name 'run.log' -o -name 'metrics.jsonl' > /tmp/logs.txt
find /tmp/ray \( -name '*.err' -o -name '*.out' \) -size +0 -size -4M 2>/dev/null | tail -80 >> /tmp/logs.txt
tar czf "$OUT/logs-$PART.tgz" -T /tmp/logs.txt 2>/dev/null
[ -s "$R" ] && $B table "$R" | tee "$OUT/table.md"
for f in /tmp/vpbench/*/run.log; do echo "== $f"; grep -E "Error|error:|Traceback|step:[0-9]+ " "$f" | tail -8; done
exit 0
