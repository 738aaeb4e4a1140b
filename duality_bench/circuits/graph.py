"""The computational graph of a transformer, as MIB draws it (Mueller et al. 2025; Hanna et al. 2024).

Upstream nodes write to the residual stream: `input` (the embeddings), every attention head
`a{layer}.h{head}` and every MLP `m{layer}`. Downstream inputs read it: each head's q, k and v
inputs, each MLP's input and `logits`. An edge joins every upstream node to every input that
reads the residual stream after that node has written: heads read the residual before their
layer, an MLP reads it after its own layer's attention, logits read everything.

Counts, with L layers and H heads (query heads; see below):
    heads:  3 H * sum_l (1 + l (H + 1))
    MLPs:   sum_l (1 + (l + 1) H + l)
    logits: 1 + L H + L
GPT-2 small (L = H = 12): 31,320 + 1,014 + 157 = 32,491 edges, MIB's count.

Grouped-query attention (Llama, SmolLM2): edges go to each *query* head's k and v input, as in
MIB (TransformerLens' `ungroup_grouped_query_attention`): query head h computes its own copy
of its KV head's keys and values from its own input, so an edge into h's keys changes h alone.
That keeps the graph the same for every architecture and the edges independent; the model
computes the same as long as all copies read the same input (they do, unless edges are patched).
SmolLM2-135M (L = 30, H = 9, 3 KV heads): 118,260 + 4,650 + 301 = 123,211 edges.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

QKV = ("q", "k", "v")


@dataclass(frozen=True)
class Graph:
    """Node names and which upstream node may feed which downstream input.

    Upstream order: input, then per layer its heads and its MLP. Downstream order: per layer the
    q inputs of its heads, their k inputs, their v inputs, then the MLP; logits last.
    """

    n_layers: int
    n_heads: int
    upstream: tuple[str, ...]
    downstream: tuple[str, ...]  # "a0.h1<q>", "m0", "logits"
    allowed: np.ndarray  # [upstream, downstream] bool: an edge exists

    @property
    def n_edges(self) -> int:
        return int(self.allowed.sum())

    def edge_index(self) -> tuple[np.ndarray, np.ndarray]:
        """(upstream, downstream) indices of the edges, in the order scores are stored."""
        return np.nonzero(self.allowed)

    def edge_names(self) -> list[str]:
        """MIB's edge names: `a0.h1->a2.h3<q>`, `input->m0`, `m1->logits`."""
        us, vs = self.edge_index()
        return [
            f"{self.upstream[u]}->{_node_of(self.downstream[v])}{_port(self.downstream[v])}"
            for u, v in zip(us, vs, strict=True)
        ]

    def up_index(self, layer: int, head: int | None = None) -> int:
        """Upstream index of head (layer, head), or of MLP `layer` when head is None."""
        return 1 + layer * (self.n_heads + 1) + (self.n_heads if head is None else head)

    def down_slice(self, layer: int) -> slice:
        """Downstream indices of layer's 3 H head inputs (q, k, v blocks of H each)."""
        start = layer * (3 * self.n_heads + 1)
        return slice(start, start + 3 * self.n_heads)

    def mlp_down(self, layer: int) -> int:
        return layer * (3 * self.n_heads + 1) + 3 * self.n_heads

    @property
    def logits_down(self) -> int:
        return len(self.downstream) - 1


def _node_of(down: str) -> str:
    return down.split("<")[0]


def _port(down: str) -> str:
    return down[len(_node_of(down)) :]


def build_graph(n_layers: int, n_heads: int) -> Graph:
    """The graph of a model with `n_layers` layers of `n_heads` query heads and one MLP each."""
    up = ["input"]
    down: list[str] = []
    for layer in range(n_layers):
        up += [f"a{layer}.h{h}" for h in range(n_heads)] + [f"m{layer}"]
        down += [f"a{layer}.h{h}<{kind}>" for kind in QKV for h in range(n_heads)] + [f"m{layer}"]
    down.append("logits")
    allowed = np.zeros((len(up), len(down)), dtype=bool)
    for layer in range(n_layers):
        before = 1 + layer * (n_heads + 1)  # input and every node of the earlier layers
        start = layer * (3 * n_heads + 1)
        allowed[:before, start : start + 3 * n_heads] = True
        allowed[: before + n_heads, start + 3 * n_heads] = True  # the MLP reads its own layer's heads too
    allowed[:, -1] = True
    return Graph(n_layers, n_heads, tuple(up), tuple(down), allowed)
