"""The model, below the three stages that use it (evaluation, analysis, circuits).

registry (the offline aliases: real pretrained models whose GGUF files install from PyPI, with
their source packages; parts joins chunked GGUF files and checks their sha256) -> loading (a
spec string, a folder, a GGUF file or a hub id -> `LoadedModel`; `as_loaded` is the one shape
`evaluate`, `analyze` and `find_circuit` accept) -> forward (next-token logits, KV-cache passes)
and adapters (one architecture's forward pass written out per head, for the analyses).

Imports nothing at package import: `registry` is read by the leaderboard without torch.
"""
