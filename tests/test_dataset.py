"""The pair tables, templates and the built dataset folder."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import subprocess
import sys
import warnings
from collections import Counter
from dataclasses import fields, replace
from pathlib import Path

import pytest

from duality_bench.cli import main
from duality_bench.data.build import build_dataset
from duality_bench.data.dataset import CONFIGS, DATASET_NAME, BuildConfig, load, load_items
from duality_bench.data.foils import MAX_ZIPF_GAP
from duality_bench.data.pairs.curated import read_curated
from duality_bench.data.pairs.tags import zipf
from duality_bench.data.records import DualPair, PromptItem
from duality_bench.data.selection import Selection, select_items
from duality_bench.data.templates import (
    TEMPLATES,
    Template,
    TemplateError,
    categories,
    check_category,
    render,
)
from duality_bench.errors import DualityBenchError
from tests.need import need

from .conftest import GPT2_TOKENIZER, REPO

DATA_DIR = Path(__file__).resolve().parents[1] / "data"
COMMITTED = DATA_DIR / DATASET_NAME
HEADER = "a,b,category,pos,a_other_duals,b_other_duals,note\n"


def checkout_build(**kw) -> BuildConfig:
    """The build's inputs from this checkout, wherever the tests run from."""
    inputs = {"curated_path": DATA_DIR / "curated_pairs.csv", "wordnet_path": DATA_DIR / "wordnet_pairs.csv"}
    return BuildConfig(**{**inputs, "tokenizer": None, "audit": None, **kw})


def _digests(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


# --- curated table -------------------------------------------------------------------------


def test_curated_table_has_enough_pairs_and_categories():
    pairs = read_curated(DATA_DIR / "curated_pairs.csv", categories=categories())
    per_category = Counter(p.category for p in pairs)
    assert len(pairs) >= 80 and len(per_category) >= 8
    ids = {p.id for p in pairs}
    assert {"left-right", "up-down", "me-you", "right-wrong"} <= ids
    by_word = {(p.a, p.b): p for p in pairs}
    assert "wrong" in by_word["left", "right"].b_other_duals  # right has two duals


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("up,down,spatial\n", r"curated\.csv:2: expected 7 columns"),
        ("up,,spatial,r,,,\n", r"curated\.csv:2: both words are required"),
        ("up,Up,spatial,r,,,\n", r"curated\.csv:2: a pair needs two different words"),
        ("up,down,spatail,r,,,\n", r"curated\.csv:2: unknown category 'spatail'"),
        ("up,down,spatial,zz,,,\n", r"curated\.csv:2: unknown part of speech 'zz'"),
    ],
)
def test_malformed_curated_rows_name_file_and_line(tmp_path, row, message):
    path = tmp_path / "curated.csv"
    path.write_text(HEADER + row)
    with pytest.raises(DualityBenchError, match=message):
        read_curated(path, categories=categories())


def test_curated_header_and_missing_file(tmp_path):
    path = tmp_path / "curated.csv"
    path.write_text("x,y\nup,down\n")
    with pytest.raises(DualityBenchError, match=r"curated\.csv:1: header must be"):
        read_curated(path)
    with pytest.raises(DualityBenchError, match="cannot read the pairs table"):
        read_curated(tmp_path / "absent.csv")


def test_duplicate_pair_warns_and_keeps_one(tmp_path):
    path = tmp_path / "curated.csv"
    path.write_text(HEADER + "up,down,spatial,r,,,\ndown,up,spatial,r,,,\n")
    with pytest.warns(UserWarning, match=r"curated\.csv:3: duplicate pair down/up \(first on line 2\)"):
        pairs = read_curated(path, categories=categories())
    assert [p.id for p in pairs] == ["up-down"]


# --- templates -----------------------------------------------------------------------------


def test_every_category_has_enough_templates():
    generic = Counter(t.category for t in TEMPLATES if not t.pairs)
    curated = [c for c in categories() if not c.startswith("wordnet-")]
    assert len(curated) >= 8
    assert all(generic[c] >= 6 for c in curated), generic
    assert all(generic[f"wordnet-{p}"] >= 4 for p in "nvar"), generic
    assert len({t.id for t in TEMPLATES}) == len(TEMPLATES)


def test_render_gives_both_directions_differing_only_in_the_cue_slot():
    pair = DualPair(a="right", b="left", category="spatial", source="curated", pos="a", a_other_duals=("wrong",))
    t = Template("two_hands", "spatial", "I have two hands, my {cue} hand and my")
    ab, ba = render(t, pair)
    assert (ab.direction, ab.cue, ab.target, ab.distractor) == ("a->b", "right", "left", "right")
    assert ab.prompt == "I have two hands, my right hand and my"
    assert ab.corrupted_prompt == "I have two hands, my left hand and my"
    assert ab.other_duals == ("wrong",) and ba.other_duals == ()
    assert (ba.prompt, ba.corrupted_prompt) == (ab.corrupted_prompt, ab.prompt)


@pytest.mark.parametrize(
    "text",
    ["No slot at all", "Two {cue} slots {cue}", "A {cue} and a {other}", "Trailing space {cue} "],
)
def test_bad_templates_are_errors_naming_the_template(text):
    pair = DualPair(a="up", b="down", category="spatial", source="curated", pos="r")
    with pytest.raises(TemplateError, match=r"spatial\.broken\.v1"):
        render(Template("broken", "spatial", text), pair)


def test_an_unknown_template_selects_nothing_and_an_unknown_category_suggests_the_closest():
    some = TEMPLATES[0]
    pair = DualPair(a="left", b="right", category=some.category, source="curated", pos="r")
    assert select_items(Selection(templates=(some.id,)), render(some, pair))
    with pytest.raises(DualityBenchError, match="no items selected"):
        select_items(Selection(templates=(some.id.replace(".v1", ".v2"),)), render(some, pair))
    with pytest.raises(TemplateError, match="did you mean spatial"):
        check_category("spatail")


def test_build_rejects_a_bad_template_and_an_unknown_pair(tmp_path):
    broken = replace(TEMPLATES[0], name="no_slot", text="Nothing to fill")
    with pytest.raises(TemplateError, match=r"no_slot\.v1"):
        build_dataset(checkout_build(out_dir=tmp_path, templates=(*TEMPLATES, broken)))
    stray = Template("stray", TEMPLATES[0].category, "Not {cue} but", pairs=("nope-never",))
    with pytest.raises(TemplateError, match="names unknown pairs"):
        build_dataset(checkout_build(out_dir=tmp_path, templates=(*TEMPLATES, stray)))


# --- the built folder ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def rebuilt(tmp_path_factory) -> Path:
    """`duality-bench build --audit` (every default), as the README rebuilds the committed folder, into a
    temporary folder."""
    need(GPT2_TOKENIZER.exists(), "GPT-2's tokenizer is needed to rebuild the committed card")
    out = tmp_path_factory.mktemp("rebuild") / DATASET_NAME
    here = os.getcwd()
    os.chdir(DATA_DIR.parent)  # defaults are relative to the working directory, as for a user
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # the committed tables hold no duplicates
            assert main(["build", "--audit", "--out", str(out)]) == 0
    finally:
        os.chdir(here)
    return out


def test_rebuild_is_byte_identical_to_the_committed_folder(rebuilt):
    assert _digests(rebuilt) == _digests(COMMITTED)


@pytest.mark.slow
def test_build_outside_the_checkout_uses_the_packaged_tables(tmp_path, monkeypatch):
    (tmp_path / "empty").mkdir()
    monkeypatch.chdir(tmp_path / "empty")  # no data/ here: the build takes the package's own pair tables
    assert main(["build", "--out", str(tmp_path / "ds")]) == 0
    for line in (COMMITTED / "sha256sums.txt").read_text().splitlines():
        digest, name = line.split()
        assert hashlib.sha256((tmp_path / "ds" / name).read_bytes()).hexdigest() == digest, name


def test_manifest_matches_files():
    for line in (COMMITTED / "sha256sums.txt").read_text().splitlines():
        digest, name = line.split()
        assert hashlib.sha256((COMMITTED / name).read_bytes()).hexdigest() == digest


@pytest.mark.parametrize("config", CONFIGS)
def test_load_dataset_offline_from_the_folder(config, tmp_path):
    from datasets import load_dataset

    # A fresh cache: datasets keys a folder's cache on its name and config, not on its files.
    ds = load_dataset(str(COMMITTED), config, split="test", cache_dir=str(tmp_path))
    assert set(ds.column_names) == {f.name for f in fields(PromptItem)}
    row = ds[0]
    assert row["prompt"] != row["corrupted_prompt"] and row["direction"] in ("a->b", "b->a")
    assert len(ds) == len(load_items(config))


def test_packaged_loader_and_counts():
    curated, core, full, every = (load_items(c) for c in CONFIGS)
    from duality_bench.data.pairs.wordnet import read_wordnet

    table = read_wordnet(DATA_DIR / "wordnet_pairs.csv")
    assert len(table) == 3555  # WordNet 3.0's 3556 less kern/kern, its own antonym
    # A pair whose every item went to a more frequent dual of the same cue is one of a set.
    gone = {p.id for p in table} - {i.pair_id for i in full}
    assert len(gone) < 100 and all("set" in p.tags for p in table if p.id in gone)
    assert {i.pair_id for i in core} < {p.id for p in table}
    assert len(load("curated")) == len(curated) and load("curated")[0]["id"] == curated[0].id
    assert len({i.pair_id for i in curated}) >= 180
    assert {i.id for i in curated} <= {i.id for i in every}  # all = curated + the WordNet core
    from duality_bench.data.pairs.tags import CORE_MIN_ZIPF

    vetted = {p.id for p in table if not {"multiword", "proper"} & set(p.tags) and p.zipf >= CORE_MIN_ZIPF}
    assert {i.pair_id for i in core} <= vetted and {i.pair_id for i in every if i.source == "wordnet"} <= vetted
    for items in (curated, full):
        families = Counter(i.family for i in items)
        assert set(families) == {"zero-shot", "few-shot"}
    assert all(i.distractor == i.cue and i.target not in i.other_duals for i in every)


@pytest.mark.parametrize("config", CONFIGS)
def test_one_prompt_one_target_no_duplicates_and_a_fair_control(config):
    items = load_items(config)
    assert max(Counter(i.prompt for i in items).values()) == 1
    assert len({i.id for i in items}) == len(items)
    assert len({(i.pair_id, i.template_id, i.direction) for i in items}) == len(items)
    # a control lies in the frequency window, or there is none: only the most frequent targets (up, in,
    # you, I: Zipf 6.5-7.5) lack one, since no word outside their curated slot is that frequent
    assert sum(not i.control for i in items if i.source == "curated") <= 0.02 * len(items)
    for i in items:
        if i.control:
            assert abs(zipf(i.control) - zipf(i.target)) <= MAX_ZIPF_GAP + 1e-9, i


@pytest.fixture(scope="module")
def word_facts():
    """Every word's duals (all tables), WordNet relatives and curated category, read independently."""
    from duality_bench.data.pairs.senses import read_relations
    from duality_bench.data.pairs.wordnet import read_wordnet

    curated = read_curated(DATA_DIR / "curated_pairs.csv")
    pairs = curated + read_wordnet(DATA_DIR / "wordnet_pairs.csv")
    duals: dict[str, set[str]] = {}
    for p in pairs:
        duals.setdefault(p.a.lower(), set()).update([p.b.lower(), *(w.lower() for w in p.a_other_duals)])
        duals.setdefault(p.b.lower(), set()).update([p.a.lower(), *(w.lower() for w in p.b_other_duals)])
    family: dict[str, set[str]] = {}
    for r in read_relations(DATA_DIR / "wordnet_relations.csv").values():
        family.setdefault(r.word.lower(), set()).update(w.lower() for w in r.family)
    category: dict[str, set[str]] = {}
    for p in curated:
        for w in (p.a, p.b):
            category.setdefault(w.lower(), set()).add(p.category)
    return duals, family, category


def _inflection(word: str, other: str) -> bool:
    w, o = word.lower(), other.lower()
    forms = {o + e for e in ("s", "es", "ed", "d", "ing", "er", "est", "ly", "ward", "wards")}
    return w in forms or o in {w + e for e in ("s", "es", "ed", "d", "ing", "er", "est", "ly", "ward", "wards")}


@pytest.mark.parametrize("config", ["curated", "wordnet", "all"])
def test_foils_are_no_answer(config, word_facts):
    import re

    duals, family, category = word_facts
    pronoun_words = {w for w, cs in category.items() if any(c.startswith("pronoun_") for c in cs)}
    n_related = 0
    for i in load_items(config):
        cue, target = i.cue.lower(), i.target.lower()
        prompt_words = {w.lower() for w in re.findall(r"[A-Za-z]+", i.prompt + " " + i.corrupted_prompt)}
        answers = {cue, target, *duals.get(cue, ()), *duals.get(target, ())}
        answers |= {w.lower() for w in (*i.other_duals, *i.target_other_duals)}
        for foil in filter(None, (i.control, i.related)):
            f = foil.lower()
            assert f not in answers and f not in prompt_words, (foil, i)
            assert f not in family.get(target, set()), (foil, "a WordNet relative of the target", i)
            assert not _inflection(f, cue) and not _inflection(f, target), (foil, i)
        if i.control:
            c = i.control.lower()
            assert c not in family.get(cue, set()), (i.control, "a WordNet relative of the cue", i)
            cats = category.get(cue, set()) | category.get(target, set())
            assert not category.get(c, set()) & cats, (i.control, "from the cue's curated category", i)
            if i.category.startswith("pronoun_"):
                assert c not in pronoun_words, i
        n_related += bool(i.related)
    assert n_related > 0


def test_all_keeps_every_item_of_its_source_config():
    by_id = {i.id: i for c in ("curated", "wordnet") for i in load_items(c)}
    combined = load_items("all")
    assert all(by_id.get(i.id) == i for i in combined)
    assert {i.id for i in combined} >= {i.id for i in load_items("curated")}


def test_rare_sense_and_british_pairs_stay_out_of_the_core():
    core, full = load_items("wordnet"), load_items("wordnet-full")
    assert not any({"rare-sense", "british"} & set(i.tags) for i in core)
    tagged = {i.pair_id for i in full if "rare-sense" in i.tags}
    assert {"wn.a.geographic-magnetic", "wn.n.sink-source", "wn.a.full-thin"} <= tagged
    assert "wn.v.maximise-minimise" in {i.pair_id for i in full if "british" in i.tags}
    assert "wn.v.maximize-minimize" in {i.pair_id for i in core}


def test_the_hand_audit_names_only_items_that_exist():
    from duality_bench.data.audit import read_audit

    entries = read_audit(DATA_DIR / "hand_audit.csv")
    ids = {i.id for i in load_items("all")}
    assert entries and all(e.id in ids for e in entries)
    for group, least in (("curated", 40), ("wordnet", 60)):
        assert sum(e.group == group for e in entries) >= least


def test_a_cue_with_several_duals_has_one_item_per_template():
    items = [i for i in load_items("wordnet") if i.prompt == "They will not admit; they will"]
    assert len(items) == 1
    (item,) = items
    # admit: deny, exclude, reject; the most frequent is the target, the others are listed
    assert item.target == "deny" and {"exclude", "reject"} <= set(item.other_duals)


def test_the_wordnet_core_is_vetted():
    core, full = load_items("wordnet"), load_items("wordnet-full")
    assert not any({"multiword", "proper"} & set(i.tags) for i in core)
    rare = {"trinucleate", "triclinic"}
    assert rare <= {i.cue for i in full} and not rare & {i.cue for i in core}
    affix = {i.pair_id for i in core if i.category == "wordnet-affix"}
    assert "wn.a.aware-unaware" in affix and "wn.a.cold-hot" not in affix
    assert all(("affix" in i.tags) == (i.category == "wordnet-affix") for i in full)


def test_few_shot_demonstrations_never_name_the_item_words():
    import re

    from duality_bench.data.foils import dual_sets
    from duality_bench.data.pairs.wordnet import read_wordnet

    duals = dual_sets(read_curated(DATA_DIR / "curated_pairs.csv") + read_wordnet(DATA_DIR / "wordnet_pairs.csv"))
    shot = re.compile(r"^(?:The opposite of )?(\S+?)(?: ->| is) (\S+?)\.?$")
    n = 0
    for item in load_items("all"):
        if item.family != "few-shot":
            continue
        *lines, query = item.prompt.split("\n")
        assert len(lines) == 3 and query.endswith((f" {item.cue} ->", f" {item.cue} is")) or query == f"{item.cue} ->"
        shown = {w.lower() for line in lines for w in shot.match(line).groups()}
        words = {item.cue, item.target, *item.other_duals, *item.target_other_duals}
        banned = {w.lower() for w in words} | duals.get(item.cue.lower(), set()) | duals.get(item.target.lower(), set())
        assert not shown & banned, item
        n += 1
    assert n > 1000


def test_unknown_config_suggests_the_closest():
    with pytest.raises(DualityBenchError, match="did you mean 'wordnet'"):
        load_items("wordnt")


def test_card_declares_configs_license_and_gpt2_counts():
    card = (COMMITTED / "README.md").read_text()
    for config in CONFIGS:
        assert f"config_name: {config}" in card
    assert "license_name: wordnet-3.0" in card and "default: true" in card
    assert "Fit to GPT-2's tokenizer" in card


def test_tokenizer_report_counts(gpt2_tokenizer):
    from duality_bench.data.vocabulary import report_tokenizer

    items = load_items("curated")[:60]
    report = report_tokenizer(gpt2_tokenizer, items)
    single = sum(
        len(gpt2_tokenizer(" " + i.target)["input_ids"]) == 1 == len(gpt2_tokenizer(" " + i.cue)["input_ids"])
        for i in items
    )
    assert report.items == 60 and report.single_token == single
    assert 0 < report.single_token_and_aligned <= min(report.single_token, report.aligned)


def test_cli_build_and_list(tmp_path, capsys):
    from duality_bench.cli import main

    assert main(["build", "--out", str(tmp_path / "ds")]) == 0
    assert "curated:" in capsys.readouterr().out
    assert "## Template audit" not in (tmp_path / "ds" / "README.md").read_text()  # only with --audit
    assert main(["list", "--templates", "--category", "spatial"]) == 0
    out = capsys.readouterr().out
    assert "spatial.two_hands.v1" in out and "all:" in out
    assert main(["list", "--category", "spatail"]) == 2
    assert "did you mean spatial" in capsys.readouterr().err


def test_help_is_fast_and_imports_nothing_heavy():
    code = (
        "import sys, duality_bench.cli as c; c.build_parser(); "
        "print(sorted(m for m in ('torch', 'transformers', 'datasets', 'nltk') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_push_to_hub_dry_run_lists_the_folder(capsys):
    spec = importlib.util.spec_from_file_location("push_to_hub", REPO / "scripts" / "push_to_hub.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main(["--repo-id", "someone/duality-pairs", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "curated/test.parquet" in out and "README.md" in out and "dry run: nothing uploaded" in out
