"""Shared fixtures: tiny random models (built here, seconds) with GPT-2's real tokenizer."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.need import need

# The hub is unreachable on CI machines; fail fast instead of retrying for half a minute.
os.environ.setdefault("HF_HUB_OFFLINE", "1")

REPO = Path(__file__).resolve().parent.parent
GPT2_TOKENIZER = REPO / "data" / "gpt2-tokenizer"


@pytest.fixture(scope="session")
def gpt2_tokenizer():
    need(GPT2_TOKENIZER.exists(), f"GPT-2's tokenizer is not at {GPT2_TOKENIZER}")
    from transformers import GPT2TokenizerFast

    return GPT2TokenizerFast.from_pretrained(GPT2_TOKENIZER)


def _save(model, tokenizer, folder: Path) -> Path:
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def tiny_gpt2_dir(tmp_path_factory, gpt2_tokenizer) -> Path:
    """A 2-layer GPT-2 (learned absolute positions) with random weights, saved with the tokenizer."""
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(0)
    config = GPT2Config(n_layer=2, n_head=2, n_embd=32, n_positions=64, vocab_size=len(gpt2_tokenizer))
    return _save(GPT2LMHeadModel(config), gpt2_tokenizer, tmp_path_factory.mktemp("tiny-gpt2"))


def _tiny_rotary(tokenizer, max_positions: int, arch: str = "llama", **extra):
    """A 2-layer rotary model (grouped-query attention: 4 query heads, 2 key/value heads) of the
    Llama family, `arch` llama or qwen2, with random weights from seed 0."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM, Qwen2Config, Qwen2ForCausalLM

    config_cls, model_cls = {"llama": (LlamaConfig, LlamaForCausalLM), "qwen2": (Qwen2Config, Qwen2ForCausalLM)}[arch]
    torch.manual_seed(0)
    config = config_cls(
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        vocab_size=len(tokenizer),
        max_position_embeddings=max_positions,
        eos_token_id=tokenizer.eos_token_id,
        bos_token_id=tokenizer.bos_token_id,
        **extra,
    )
    return model_cls(config)


@pytest.fixture(scope="session")
def tiny_qwen2_dir(tmp_path_factory, gpt2_tokenizer) -> Path:
    """A 2-layer Qwen2 (biases on q, k and v; grouped-query attention; untied unembedding), seed 0."""
    model = _tiny_rotary(gpt2_tokenizer, 64, "qwen2", tie_word_embeddings=False)
    assert model.model.layers[0].self_attn.q_proj.bias is not None
    return _save(model, gpt2_tokenizer, tmp_path_factory.mktemp("tiny-qwen2"))


@pytest.fixture(scope="session")
def tiny_gemma3_dir(tmp_path_factory, gpt2_tokenizer) -> Path:
    """A 2-layer Gemma 3: a sliding-window layer (window 3, its own rotary base) then a global one,
    q/k norms, normalised attention and MLP outputs, head_dim 16 != hidden / heads; seed 0."""
    import torch
    from transformers import Gemma3ForCausalLM, Gemma3TextConfig

    torch.manual_seed(0)
    config = Gemma3TextConfig(
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        head_dim=16,
        query_pre_attn_scalar=12,
        sliding_window=3,
        layer_types=["sliding_attention", "full_attention"],
        rope_parameters={
            "sliding_attention": {"rope_type": "default", "rope_theta": 10_000.0},
            "full_attention": {"rope_type": "default", "rope_theta": 100.0},
        },
        vocab_size=len(gpt2_tokenizer),
        max_position_embeddings=64,
        eos_token_id=gpt2_tokenizer.eos_token_id,
        bos_token_id=gpt2_tokenizer.bos_token_id,
        pad_token_id=gpt2_tokenizer.eos_token_id,
    )
    return _save(Gemma3ForCausalLM(config), gpt2_tokenizer, tmp_path_factory.mktemp("tiny-gemma3"))


@pytest.fixture(scope="session")
def tiny_llama_dir(tmp_path_factory, gpt2_tokenizer) -> Path:
    """A 2-layer Llama (rotary positions) with random weights and GPT-2's tokenizer."""
    return _save(_tiny_rotary(gpt2_tokenizer, 64), gpt2_tokenizer, tmp_path_factory.mktemp("tiny-llama"))


@pytest.fixture(scope="session")
def small_vocab_llama_dir(tmp_path_factory) -> Path:
    """A 2-layer Llama with a byte-level BPE of 600 tokens trained here: it splits other words than GPT-2's."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    from duality_bench.data.dataset import load_items

    texts = [f"{i.prompt} {i.target}" for i in load_items("all")[::7]]
    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=600, special_tokens=["<eos>"], initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    bpe.train_from_iterator(texts, trainer)
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=bpe, eos_token="<eos>")
    return _save(_tiny_rotary(tokenizer, 128), tokenizer, tmp_path_factory.mktemp("small-vocab-llama"))
