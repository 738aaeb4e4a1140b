"""Stage 3: results files -> a ranked leaderboard (`LEADERBOARD.md`, `index.html`).

entries (collect, validate, rank) -> columns -> markdown, plots -> page -> build. May import
`errors`, `results` and `data.dataset`; never `evaluation` (no torch) or `analysis`.
"""

from duality_bench.leaderboard.build import LeaderboardConfig, build_leaderboard
from duality_bench.leaderboard.entries import Entry, Leaderboard, LeaderboardError

__all__ = ["Entry", "Leaderboard", "LeaderboardConfig", "LeaderboardError", "build_leaderboard"]
