"""Stage 1, the dataset: pair tables -> records -> prompt items -> the dataset folder.

pairs/ (table, curated, wordnet, tags, senses) -> templates, fewshot, foils -> build (+ card) writes
the folder; dataset defines it and loads it back; vocabulary is where the word-boundary space
goes. May import `errors` and `results` (the card's template audit reads results files); never
`evaluation`, `leaderboard` or `analysis`.
"""
