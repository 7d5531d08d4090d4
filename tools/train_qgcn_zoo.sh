#!/usr/bin/env bash
# Trains the four QGCN zoo models of notebook 11 one after the other (each: stage 1 on 48 px
# patches, stage 2 on 128 px patches from it) and adds each to the zoo with the exact command.
# Resumable: rerun it and every finished stage is skipped (--resume continues a cut one).
# About 25 CPU-minutes per model on 2 cores, plus 3-4 minutes of zoo evaluation each.
set -euo pipefail
PY=${PYTHON:-python}
train_pair () {   # name, extra --set arguments (may be empty)
  local name=$1; shift
  local s1="$PY -m jarlib.train --model qgcn --preset cpu --out runs/${name}_s1 --resume${*:+ --set $*}"
  local s2="$PY -m jarlib.train --model qgcn --preset cpu_stage2 --out runs/${name} --resume --set init_from=runs/${name}_s1/checkpoint.pt${*:+ $*}"
  local add="$PY -m jarlib.zoo add ${name} runs/${name}/checkpoint.pt"
  $s1
  $s2
  if ! $PY -c "import sys, jarlib.zoo as z; sys.exit(0 if z.manifest().get('${name}', {}).get('metrics') else 1)"; then
    $add --command "${s1/$PY/python} && ${s2/$PY/python} && ${add/$PY/python} --command \"<this command>\""
  fi
  echo "${name} done $(date)"
}
train_pair qgcn_gray
train_pair qcn_gray model_args.global_branch=false
train_pair qgcn_gray_noqm model_args.use_qmap=false
train_pair qgcn_color mode=rgb val_set=live1_color
