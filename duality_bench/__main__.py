from duality_bench.cli import run

run()
