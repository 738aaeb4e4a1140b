"""Stage 2, the evaluation: a model and the dataset -> a results file.

models (loading) -> scoring (batched, KV cache) -> scorer (the boundary any backend implements:
`ModelScorer`, and the reference rows in baselines) -> run (`evaluate`: plan, load, score
resumably, summarize, write) with items (the per-item scores file), metrics and summary; sweep
runs several models; harness exports the items as an lm-evaluation-harness task. May import
`errors`, `provenance`, `results` and `data`; never `leaderboard` or `analysis`.
"""
