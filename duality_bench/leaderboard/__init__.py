"""Stage 3: results files -> a ranked leaderboard (`LEADERBOARD.md`, `index.html`).

headline (the ranking number) -> entries (collect, validate, rank) -> columns -> markdown, plots
-> page -> build. May import `errors`, `results`, `data.dataset`, `statistics`, `headlines` and
`evaluation.offline` (the offline models' table); never a model (no torch) or `analysis`.
"""

from duality_bench.leaderboard.build import LeaderboardConfig, build_leaderboard
from duality_bench.leaderboard.entries import Entry, Leaderboard, LeaderboardError

__all__ = ["Entry", "Leaderboard", "LeaderboardConfig", "LeaderboardError", "build_leaderboard"]
