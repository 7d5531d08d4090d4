#!/usr/bin/env bash
# Trains the zoo models of notebooks 12 (CQR) and 14 (Dual priors) one after the other, each
# auxiliary network before the restorer that uses it, and adds each to the zoo with the exact
# command. Resumable: rerun it and finished runs are skipped (--resume continues a cut one); a model
# already in the zoo is not added again.
# About 90 CPU-minutes on 2 cores in all (cqr_gray ~25, cqr_gray_mae ~20, dualpriors_gray ~25, the
# ranker and the classifier a few each), plus the zoo evaluations. Never run two at once.
set -euo pipefail
PY=${PYTHON:-python}
in_zoo () {
  $PY -c "import sys, jarlib.zoo as z; sys.exit(0 if z.manifest().get('$1', {}).get('metrics') else 1)"
}
add_to_zoo () {   # name, checkpoint, training command (with $PY)
  local add="$PY -m jarlib.zoo add $1 $2"
  in_zoo "$1" || $add --command "${3//$PY /python } && ${add/$PY/python} --command \"<this command>\""
  echo "$1 done $(date)"
}
auxiliary () {    # zoo name, network (ranker | classifier), run folder
  local train="$PY -m jarlib.auxiliary $2 --out $3 --resume -q"
  $train
  add_to_zoo "$1" "$3/checkpoint.pt" "$train"
}
restorer () {     # zoo name, model, preset
  local train="$PY -m jarlib.train --model $2 --preset $3 --out runs/$1 --resume"
  $train
  add_to_zoo "$1" "runs/$1/checkpoint.pt" "$train"
}
auxiliary cqr_ranker ranker runs/cqr_ranker
restorer cqr_gray cqr cpu
restorer cqr_gray_mae cqr cpu_mae
auxiliary dualpriors_classifier classifier runs/dp_classifier
restorer dualpriors_gray dualpriors cpu
