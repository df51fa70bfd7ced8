#!/bin/bash
# The device (GPU) run behind the shipped checkpoint: train (resuming from .wmrun/state.pt when it
# exists) and, in the background, fit the stored ceilings. Run from the repository root on the GPU
# machine with the EGL debs in .gl/ and the wheels (gsplat, moderngl, glcontext, ninja, rich) in .whl_render/.
# usage: bash worldmodel/device_run.sh TRAIN_MINUTES STEPS WORKERS CEIL(quick|full|both|none) [INIT]
set -u
TM=$1; STEPS=$2; WORKERS=$3; CEIL=$4; INIT=${5:-}
OUT=${OUT:-/tmp/out}; mkdir -p $OUT
if [ -z "${SKIP_INSTALL:-}" ] && [ -d .gl ]; then for f in .gl/*.deb; do dpkg -x $f /; done; ldconfig; fi
if [ -z "${SKIP_INSTALL:-}" ] && [ -d .whl_render ]; then python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl_render/*.whl || exit 1; fi
export PYTHONPATH=/tmp/site:$PWD PYTHONUNBUFFERED=1 MAX_JOBS=16 TORCH_CUDA_ARCH_LIST=9.0
PY=${PY:-python3}
RUN=/tmp/run; mkdir -p $RUN
[ -f .wmrun/state.pt ] && cp .wmrun/state.pt .wmrun/history.json $RUN/ 2>/dev/null
nvidia-smi --query-gpu=name,memory.used --format=csv 2>/dev/null
# warm the gsplat JIT once, before the two users race for it
$PY - <<'PYEOF' 2>&1 | grep -v Warn | tail -3
import time, torch
from worldmodel.compositor import gsplat_available, render
t = time.time()
dev = "cuda" if torch.cuda.is_available() else "cpu"
n = 16
m = torch.randn(n, 3, device=dev) * 0.2
q = torch.zeros(n, 4, device=dev); q[:, 0] = 1
vm = torch.eye(4, device=dev)[None].clone(); vm[0, 2, 3] = 3.0
K = torch.tensor([[[50.0, 0, 16], [0, 50.0, 16], [0, 0, 1]]], device=dev)
out = render(m, q, torch.full((n, 3), 0.05, device=dev), torch.full((n,), 0.9, device=dev), torch.rand(n, 3, device=dev), vm, K, 32, 32)
print("warm render", dev, gsplat_available(), float(out[1].sum()), round(time.time() - t, 1), "s", torch.__version__)
PYEOF
DEV=${DEV:-cuda}
if [ "$CEIL" != none ]; then
  ( [ -f .wmrun/ceiling.json ] && cp .wmrun/ceiling.json $OUT/ceiling.json
    if [ "$CEIL" = quick ] || [ "$CEIL" = both ]; then $PY -m engine.cli worldmodel eval --quick --compute-ceiling --missing-only --device $DEV --ceiling $OUT/ceiling.json ${CEIL_ARGS:-}; fi
    if [ "$CEIL" = full ] || [ "$CEIL" = both ]; then $PY -m engine.cli worldmodel eval --compute-ceiling --missing-only --device $DEV --ceiling $OUT/ceiling.json ${CEIL_ARGS:-}; fi
    echo CEILINGS DONE ) > $OUT/ceiling.log 2>&1 &
fi
INITARG=""; [ -n "$INIT" ] && INITARG="--init $INIT"
( while true; do sleep 20; for f in worldmodel.pt state.pt history.json loss.png; do [ -f $RUN/$f ] && cp $RUN/$f $OUT/$f.tmp && mv $OUT/$f.tmp $OUT/$f; done; done ) &
COPIER=$!
$PY -m worldmodel.train --out $RUN --device $DEV --workers $WORKERS --pool ${POOL:-1024} --refresh 4 --steps $STEPS --minutes $TM --save-minutes ${SAVE_MIN:-2} --no-progress $INITARG ${TRAIN_ARGS:-} 2>&1 | tee $OUT/train.log | grep -v Warning
for f in worldmodel.pt state.pt history.json loss.png; do [ -f $RUN/$f ] && cp $RUN/$f $OUT/$f; done
kill $COPIER
wait
tail -3 $OUT/ceiling.log 2>/dev/null
ls -la $OUT
