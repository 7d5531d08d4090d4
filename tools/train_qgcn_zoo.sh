#!/usr/bin/env bash
# Trains the four QGCN zoo models of notebook 11 one after the other and adds each to the zoo with
# the exact command: the three gray ones in two stages (stage 1 on 48 px patches, stage 2 on 128 px
# patches from it), then qgcn_color fine-tuned from the zoo's qgcn_gray (preset cpu_color).
# Resumable: rerun it and every finished stage is skipped (--resume continues a cut one).
# STAGE1 / STAGE2 / COLOR choose the presets (default: cpu, cpu_stage2, cpu_color).
set -euo pipefail
PY=${PYTHON:-python}
STAGE1=${STAGE1:-cpu}
STAGE2=${STAGE2:-cpu_stage2}
COLOR=${COLOR:-cpu_color}
in_zoo () { $PY -c "import sys, jarlib.zoo as z; sys.exit(0 if z.manifest().get('$1', {}).get('metrics') else 1)"; }
train_pair () {   # name, extra --set arguments (may be empty)
  local name=$1; shift
  local s1="$PY -m jarlib.train --model qgcn --preset ${STAGE1} --out runs/${name}_s1 --resume${*:+ --set $*}"
  local s2="$PY -m jarlib.train --model qgcn --preset ${STAGE2} --out runs/${name} --resume --set init_from=runs/${name}_s1/checkpoint.pt${*:+ $*}"
  local add="$PY -m jarlib.zoo add ${name} runs/${name}/checkpoint.pt"
  $s1
  $s2
  if [ -z "${NO_ZOO:-}" ] && ! in_zoo "${name}"; then
    $add --command "${s1/$PY/python} && ${s2/$PY/python} && ${add/$PY/python} --command \"<this command>\""
  fi
  echo "${name} done $(date)"
}
train_pair qgcn_gray
train_pair qcn_gray model_args.global_branch=false
train_pair qgcn_gray_noqm model_args.use_qmap=false
# colour: fine-tuned from the zoo's qgcn_gray (the preset's init_from)
color="$PY -m jarlib.train --model qgcn --preset ${COLOR} --out runs/qgcn_color_long --resume"
add="$PY -m jarlib.zoo add qgcn_color runs/qgcn_color_long/checkpoint.pt"
$color
if [ -z "${NO_ZOO:-}" ] && ! in_zoo qgcn_color; then
  $add --command "${color/$PY/python} && ${add/$PY/python} --command \"<this command>\""
fi
echo "qgcn_color done $(date)"
