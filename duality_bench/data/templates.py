"""Named, versioned prompt templates, and rendering a pair into clean/corrupted prompt items.

A template is plain text with exactly one `{cue}` slot and ends right before the dual, e.g.
"First it went {cue}, then it went" -> " down" when the cue is "up". The corrupted prompt puts
the target in the cue slot, so the expected answer flips and nothing else changes: that is the
pair activation patching needs. Change a template's text only together with its version.
"""

from __future__ import annotations

import difflib
import string
from collections.abc import Callable
from dataclasses import dataclass

from duality_bench.data.records import DualPair, PromptItem
from duality_bench.errors import DualityBenchError

SLOT = "{cue}"
# What fills the cue slot of an item's neutral prompt, the context of calibrated scores: a word
# that fits the slot and names nothing, per part of speech, and per category where the part of
# speech says too little (went somewhere; someone's loss).
NEUTRAL_FILLERS = {"n": "something", "v": "do", "a": "so", "r": "so", "pron": "someone", "det": "someone's"}
NEUTRAL_BY_CATEGORY = {"spatial": "somewhere", "location": "somewhere", "pronoun_independent": "someone's"}


def neutral_filler(pair: DualPair) -> str:
    """The neutral word for `pair`'s cue slot (see NEUTRAL_FILLERS)."""
    return NEUTRAL_BY_CATEGORY.get(pair.category) or NEUTRAL_FILLERS.get(pair.pos, "something")


class TemplateError(DualityBenchError, ValueError):
    """A template that cannot render a valid clean/corrupted item."""


@dataclass(frozen=True)
class Template:
    name: str  # unique within its category
    category: str  # a curated category, or wordnet-<pos>
    text: str  # exactly one {cue}; ends right before the expected word
    version: int = 1
    pairs: tuple[str, ...] = ()  # only these pair ids; empty means every pair of the category

    @property
    def id(self) -> str:
        return f"{self.category}.{self.name}.v{self.version}"

    def applies_to(self, pair: DualPair) -> bool:
        # WordNet pairs take their part of speech's templates, affix pairs included, and so do
        # a user's pairs that name no curated category.
        generic = pair.source == "wordnet" or (pair.source == "user" and pair.category == "user")
        group = f"wordnet-{pair.pos}" if generic else pair.category
        return group == self.category and (not self.pairs or pair.id in self.pairs)


# --- curated categories --------------------------------------------------------------------
# Each category holds words that fit the same grammatical slot, so every generic template of
# the category reads naturally for every pair in it, in both directions, and the dual is the
# word a fluent reader expects next. Pair-specific templates (`pairs=`) carry the study's own
# prompts, such as the two-hands one, and idioms that only fit one pair ("What goes up must
# come down"). Targets never follow "a"/"an" in generic templates (no article agreement), and
# the cue is never the first word (no capitalization handling).
TEMPLATES: tuple[Template, ...] = (
    # spatial: direction adverbs after a verb of motion (went left, ran upstairs). Left/right and
    # up/down are adjectives only in their pair-specific templates (my left hand, the up arrow key).
    Template("went_then_went", "spatial", "First it went {cue}, then it went"),
    Template("not_but", "spatial", "It did not move {cue}; it moved", version=2),
    Template("instead_of_going", "spatial", "Instead of going {cue}, they went"),
    Template("some_others", "spatial", "Some of them went {cue}, and the others went"),
    Template("which_way", "spatial", "Which way did it go, {cue} or"),
    Template("ran_not", "spatial", "The dog ran {cue}, not"),
    Template("kept_moving", "spatial", "It kept moving {cue} and"),
    Template("two_hands", "spatial", "I have two hands, my {cue} hand and my", pairs=("left-right",)),
    Template("either_or", "spatial", "You can turn either {cue} or", pairs=("left-right",)),
    Template("drive_side", "spatial", "They drive on the {cue} side of the road, not the", pairs=("left-right",)),
    Template("writes_with", "spatial", "She writes with her {cue} hand, not her", pairs=("left-right",)),
    Template("arrow_key", "spatial", "Press the {cue} arrow key, not the", pairs=("left-right", "up-down")),
    Template("goes_must_come", "spatial", "What goes {cue} must come", pairs=("up-down",)),
    Template("thumbs", "spatial", "He gave the plan a thumbs {cue}, not a thumbs", pairs=("up-down",)),
    Template("elevator", "spatial", "The elevator is going {cue}, not", pairs=("up-down",)),
    # location: adverbs of place, no object (the noise came from above)
    Template("noise_from", "location", "The noise came from {cue}, not from"),
    Template("is_not", "location", "It is not {cue}; it is"),
    Template("is_cue_not", "location", "It is {cue}, not"),
    Template("searched_and", "location", "They searched {cue} and"),
    Template("people_could_not_hear", "location", "The people {cue} could not hear the people"),
    Template("the_one", "location", "The one {cue} is bigger than the one"),
    # "As above, so below" reads only one way; "As below, so" wants no particular word.
    # position: nouns for the parts or ends of a thing, after "the" (the top, the front)
    Template("all_the_way", "position", "It went all the way from the {cue} to the"),
    Template("at_or_at", "position", "Is it at the {cue} or at the"),
    Template("not_at_but_at", "position", "It is not at the {cue} but at the"),
    Template("work_your_way", "position", "Begin at the {cue} and work your way to the"),
    Template("look_first", "position", "Look at the {cue} first, then at the"),
    Template("sign_at_both", "position", "There is a sign at both the {cue} and the"),
    Template("from_to", "position", "She read it from {cue} to", pairs=("top-bottom", "front-back", "beginning-end")),
    # pronouns, one category per grammatical role. A subject template must make the other person
    # the natural next subject: "Yesterday I cooked, and today" goes on with I just as well.
    # Past tense, so I/you, he/she and we/they take the same verb form.
    Template("who_called_not", "pronoun_subject", "It was {cue} who called, not"),
    Template("last_time_paid", "pronoun_subject", "Last time {cue} paid, so this time"),
    Template("neither_nor", "pronoun_subject", "Neither {cue} nor"),
    Template("cooked_next_time", "pronoun_subject", "Tonight {cue} cooked, so tomorrow night"),
    Template("went_first", "pronoun_subject", "Last time {cue} went first, so this time"),
    Template("won_last_time", "pronoun_subject", "This time {cue} won, but last time"),
    Template("between_you_and", "pronoun_object", "It's just between {cue} and"),
    Template("not_for_but_for", "pronoun_object", "It was not for {cue} but for"),
    Template("looked_at", "pronoun_object", "She looked at {cue}, and then at"),
    Template("gift_from", "pronoun_object", "The gift is not from {cue}; it is from"),
    Template("against", "pronoun_object", "In the final, it's {cue} against", version=2),
    Template("choose_or", "pronoun_object", "Did they choose {cue} or"),
    Template("story_about", "pronoun_object", "This is a story about {cue}, not about", version=2),
    Template("not_you_me", "pronoun_object", "It's not {cue}, it's", pairs=("me-you",)),
    Template("enough_about", "pronoun_object", "Enough about {cue}; let's talk about", pairs=("me-you",)),
    # Possessive determiners: when the same noun would follow the answer, the independent form
    # wins ("my side of the bed, and that is yours"), so each template pairs two different nouns
    # and only the determiner can come next ("my loss is your gain").
    Template("loss_gain", "pronoun_possessive", "As the saying goes, {cue} loss is"),
    Template("gain_loss", "pronoun_possessive", "Sadly, {cue} gain is"),
    Template("trash_treasure", "pronoun_possessive", "They say {cue} trash is"),
    Template("left_right", "pronoun_possessive", "Face to face, {cue} left is"),
    Template("time_difference", "pronoun_possessive", "Because of the time difference, {cue} morning is"),
    Template("day_night", "pronoun_possessive", "When it is day on {cue} side of the world, it is night on"),
    Template("book_is_or", "pronoun_independent", "Is this book {cue} or"),
    Template("this_that", "pronoun_independent", "This one is {cue}, and that one is"),
    Template("friend_of", "pronoun_independent", "A friend of {cue} is a friend of"),
    Template("fault_not_but", "pronoun_independent", "The fault was not {cue} but"),
    Template("whose_is_it", "pronoun_independent", "Whose is it, {cue} or"),
    Template("choice_not", "pronoun_independent", "The choice is {cue}, not"),
    Template("side_of_bed", "pronoun_independent", "This side of the bed is {cue}, and that side is"),
    # evaluative: predicate adjectives of judgment (it is right, it is true). No "Is it X or"
    # frames: after "Is it legal or" the natural word is "not".
    Template("not_but", "evaluative", "It was not {cue} but rather", version=2),
    Template("neither_nor", "evaluative", "It is neither {cue} nor"),
    Template("which_is_it", "evaluative", "So which is it, {cue} or"),
    Template("some_some", "evaluative", "Some of them are {cue}, and some are"),
    Template("call_it", "evaluative", "Some call it {cue}; others call it"),
    Template("said_said", "evaluative", "She said it was {cue}, but he said it was"),
    Template("difference", "evaluative", "He knows the difference between {cue} and"),
    Template("got_answer", "evaluative", "Did I get the answer {cue} or", pairs=("right-wrong",)),
    Template("no_or", "evaluative", "There is no {cue} or", pairs=("right-wrong",)),
    Template("knew_from", "evaluative", "He knew {cue} from", pairs=("right-wrong", "good-bad")),
    # quantity: quantifiers used on their own (some say more, some say less)
    Template("neither_nor", "quantity", "It was neither {cue} nor"),
    Template("some_say", "quantity", "Some say {cue}, some say"),
    Template("is_it_or", "quantity", "Is it {cue} or"),
    Template("answer_not", "quantity", "The answer is {cue}, not"),
    Template("wanted_got", "quantity", "We wanted {cue}, but we got"),
    Template("did_you_say", "quantity", "Did you say {cue} or"),
    Template("sugar", "quantity", "Do you want {cue} sugar or", pairs=("more-less",)),
    # temporal: time words quoted rather than used, so no tense clashes (yesterday/tomorrow)
    Template("do_you_mean", "temporal", "Do you mean {cue} or"),
    Template("said_not", "temporal", "I said {cue}, not"),
    Template("neither_nor", "temporal", "It's neither {cue} nor"),
    Template("mixing_up", "temporal", "He keeps mixing up {cue} and"),
    Template("which_is_it", "temporal", "Which is it, {cue} or"),
    Template("difference", "temporal", "Children learn the difference between {cue} and"),
    Template("today_between", "temporal", "Today lies between {cue} and", pairs=("yesterday-tomorrow",)),
    Template("meal", "temporal", "Take one pill {cue} the meal and one", pairs=("before-after",)),
    Template("shall_be", "temporal", "The {cue} shall be", pairs=("first-last",)),
    # time_period: parts of the day and of the year, as nouns
    Template("worked_from_to", "time_period", "They worked from {cue} to"),
    Template("prefer", "time_period", "Do you prefer the {cue} or the"),
    Template("was_not", "time_period", "It was {cue}, not"),
    Template("whether", "time_period", "It doesn't matter whether it is {cue} or"),
    Template("here_there", "time_period", "It is {cue} here, but over there it is"),
    Template("every", "time_period", "We walk there every {cue} and every"),
    Template("worked_and", "time_period", "They worked {cue} and", pairs=("day-night",)),
    # state: either-or predicate adjectives (it is on, it is alive). No "Is it X or" or "whether
    # it is X or" frames: "Check whether it is locked or" goes on with "not".
    Template("was_not", "state", "It was {cue}, not"),
    Template("first_then", "state", "First it was {cue}, then it was"),
    Template("one_other", "state", "One of them is {cue}, and the other is"),
    Template("is_not", "state", "It is not {cue}; it is"),
    Template("neither_nor", "state", "It is neither {cue} nor"),
    Template("used_to_be", "state", "It used to be {cue}, but now it is"),
    Template("half_half", "state", "Half of them were {cue}, and half were"),
    Template("turn_light", "state", "Turn the light {cue}, not", pairs=("on-off",)),
    Template("shop", "state", "The shop was {cue} this morning, but now it is", version=2, pairs=("open-closed",)),
    Template("both_cat", "state", "The cat in the box is both {cue} and", pairs=("alive-dead",)),
    # property: gradable predicate adjectives (too hot, too cold)
    Template("not_too", "property", "It is neither too {cue} nor too"),
    Template("some_like_it", "property", "Some like it {cue}, some like it"),
    Template("first_second", "property", "The first one is {cue}, and the second one is"),
    Template("is_it_or", "property", "Is it very {cue} or very", version=2),
    Template("can_be", "property", "It can be {cue} or"),
    Template("not_but_rather", "property", "It was not {cue}, but rather"),
    Template("drink", "property", "Would you like your drink {cue} or", pairs=("hot-cold",)),
    # colour: colour and brightness adjectives in frames that force the colour sense (light is
    # also the dual of heavy, so no frame may read as weight)
    Template("squares", "colour", "Some of the squares are {cue}, and the rest are"),
    Template("letters", "colour", "The letters are {cue}, and the background is"),
    Template("comes_in", "colour", "The shirt comes in {cue} or"),
    Template("one_cat", "colour", "One of the cats is {cue}, and the other is"),
    Template("pieces", "colour", "Half of the chess pieces are {cue}, and the other half are"),
    Template("stripes", "colour", "The stripes alternate between {cue} and"),
    Template("outside", "colour", "Is it {cue} outside, or is it", pairs=("light-dark",)),
    # person: predicate adjectives describing people: age, wealth, health, mood, character
    Template("one_brother", "person", "One brother is {cue}, and the other is"),
    Template("is_not", "person", "He is not {cue}; he is"),
    Template("she_he", "person", "She was {cue}, but he was"),
    Template("neither_nor", "person", "They were neither {cue} nor"),
    Template("looked_but", "person", "He looked {cue}, but he was actually"),
    Template("some_people", "person", "Some people are {cue}, and some people are"),
    # superlative: superlative adjectives after "the" (the best, the worst)
    Template("which_one", "superlative", "Which one is the {cue}, and which one is the"),
    Template("not_one", "superlative", "It is not the {cue} one but the"),
    Template("sort_from", "superlative", "Sort them from {cue} to"),
    Template("picks", "superlative", "He always picks the {cue} one, never the"),
    Template("ranges", "superlative", "The list ranges from the {cue} to the"),
    Template("is_this", "superlative", "Is this the {cue} one or the"),
    Template("of_times", "superlative", "It was the {cue} of times, it was the", pairs=("best-worst",)),
    # action: verbs in the base form (win, lose)
    Template("some_others", "action", "Some people {cue}, others"),
    Template("sometimes", "action", "Sometimes you {cue}, sometimes you"),
    Template("either_or", "action", "You can either {cue} or"),
    Template("here_to", "action", "We are here to {cue}, not to"),
    Template("first_then", "action", "First we {cue}, then we"),
    Template("will_not", "action", "They will not {cue}; they will"),
    Template("easier", "action", "It is easier to {cue} than to"),
    Template("win_some", "action", "You {cue} some, you", pairs=("win-lose",)),
    Template("give_and_take", "action", "Every relationship needs some {cue} and", pairs=("give-take",)),
    Template("easy_come", "action", "Easy {cue}, easy", pairs=("come-go",)),
    # "Should I sell the stock or" wants "hold" as much as "buy": two right answers, dropped.
    Template("questions", "action", "You {cue} the questions, and I", pairs=("ask-answer",)),
    Template("door", "action", "Do I {cue} the door or", pairs=("push-pull", "open-close")),
    # abstract: abstract nouns without an article (life, death, war, peace)
    Template("fine_line", "abstract", "There is a fine line between {cue} and"),
    Template("brought_instead", "abstract", "They brought {cue} instead of"),
    Template("ended_not_in", "abstract", "It ended not in {cue} but in"),
    Template("gave_way", "abstract", "Slowly, {cue} gave way to"),
    Template("question_of", "abstract", "It is a question of {cue} or"),
    Template("some_find", "abstract", "Some find {cue}, others find"),
    # kinship: relatives in one family, after "the" (the mother, the father). A possessive frame
    # ("my mother and my father") cannot hold husband/wife, so none is used.
    Template("family_photo", "kinship", "In the family photo, the {cue} stands next to the"),
    Template("both_the", "kinship", "In this family, both the {cue} and the"),
    Template("older_than", "kinship", "Is the {cue} older than the"),
    Template("one_and_one", "kinship", "The family has one {cue} and one"),
    Template("invited_not", "kinship", "We invited the {cue}, but not the"),
    Template("phoned", "kinship", "First the {cue} phoned, and then the"),
    # gender: male/female counterparts after "the" or "one" (the king, the queen)
    Template("danced_with", "gender", "At the ball, the {cue} danced with the"),
    Template("spoke_first", "gender", "The {cue} spoke first, and then the"),
    Template("who_was_it", "gender", "Who was it, the {cue} or the"),
    Template("not_but", "gender", "It was not the {cue} but the"),
    Template("one_and_one", "gender", "There was one {cue} and one"),
    Template("smiled_at", "gender", "The {cue} smiled at the"),
    Template("baby", "gender", "Is the baby a {cue} or a", pairs=("boy-girl",)),
    Template("throne", "gender", "The {cue} sat on the throne beside the", pairs=("king-queen",)),
    # role: the two sides of a relationship, after "the" (the host, the guest)
    Template("who_is", "role", "Who is the {cue} and who is the"),
    Template("relationship", "role", "It is about the relationship between the {cue} and the"),
    Template("played", "role", "One actor played the {cue}, and another played the"),
    Template("not_but", "role", "It was not the {cue} but the"),
    Template("looked_at", "role", "The {cue} looked at the"),
    Template("matters_to_both", "role", "It matters to both the {cue} and the"),
    Template("when_ready", "role", "When the {cue} is ready, the", pairs=("teacher-student",)),
    # --- WordNet, one set per part of speech ------------------------------------------------
    # These must fit arbitrary WordNet antonyms (victory/defeat, increase/decrease, hot/cold,
    # quickly/slowly), so they mostly mention the word. Nouns come bare, count or mass (aunt,
    # altruism), so no article precedes them; most adverbs are -ly adverbs of manner.
    Template("opposite_of", "wordnet-n", "The opposite of {cue} is"),
    Template("difference", "wordnet-n", "There is a difference between {cue} and"),
    Template("neither_nor", "wordnet-n", "It was neither {cue} nor"),
    Template("came_down_to", "wordnet-n", "It came down to {cue} versus"),
    Template("choice_between", "wordnet-n", "It was a choice between {cue} and"),  # "Compare with" invites any noun
    # "The opposite of admit is" invites "to" before the verb; "Is it legal or" invites "not".
    Template("some_others", "wordnet-v", "Some of them {cue}, and others"),
    Template("either_or", "wordnet-v", "You can either {cue} or"),
    Template("will_not", "wordnet-v", "They will not {cue}; they will"),
    Template("time_to", "wordnet-v", "It is time to {cue}, not to"),
    Template("easier", "wordnet-v", "It is easier to {cue} than to"),
    Template("opposite_of", "wordnet-a", "The opposite of {cue} is"),
    Template("neither_nor", "wordnet-a", "It was neither {cue} nor"),
    Template("call_it", "wordnet-a", "Some call it {cue}; others call it"),
    Template("not_but", "wordnet-a", "It was not {cue} but rather", version=2),  # "not easy but we managed"
    Template("some_some", "wordnet-a", "Some of them are {cue}, and some are"),
    Template("opposite_of", "wordnet-r", "The opposite of {cue} is"),
    Template("not_but", "wordnet-r", "Not {cue}, but"),
    Template("done_not", "wordnet-r", "It was done {cue}, not"),
    Template("done_neither", "wordnet-r", "It was done neither {cue} nor"),
    Template("some_act", "wordnet-r", "Some act {cue}, others act"),  # "acted X rather than" invites a verb
)


def categories(templates: tuple[Template, ...] = TEMPLATES) -> tuple[str, ...]:
    return tuple(dict.fromkeys(t.category for t in templates))


def check_category(
    category: str, templates: tuple[Template, ...] = TEMPLATES, known: tuple[str, ...] | None = None
) -> str:
    """Return `category` if some template renders it (or it is `known`), else raise naming the closest one."""
    known = known if known is not None else categories(templates)
    if category in known:
        return category
    close = difflib.get_close_matches(category, known, n=3)
    hint = f"did you mean {', '.join(close)}?" if close else f"known: {', '.join(known)}"
    raise TemplateError(f"unknown category {category!r}; {hint}")


def check_template(template: Template) -> None:
    """Raise TemplateError naming the template if it breaks the one-slot rule."""
    fields = [f for _, f, _, _ in string.Formatter().parse(template.text) if f is not None]
    if fields.count("cue") != 1 or len(fields) != 1:
        raise TemplateError(
            f"template {template.id!r} must hold exactly one {SLOT} slot and no other field, "
            f"found {fields or 'none'}: {template.text!r}"
        )
    if template.text != template.text.rstrip() or not template.text.strip():
        raise TemplateError(
            f"template {template.id!r} must end right before the answer, without trailing space: {template.text!r}"
        )


def render(template: Template, pair: DualPair) -> list[PromptItem]:
    """Both directions of `pair` under `template`: a->b (cue a, target b) and b->a."""
    check_template(template)

    def prompts(cue: str, target: str, others: tuple[str, ...], target_others: tuple[str, ...]) -> tuple[str, ...]:
        prompt, corrupted = template.text.replace(SLOT, cue), template.text.replace(SLOT, target)
        _check_one_slot_differs(template, prompt, corrupted)
        return prompt, corrupted, template.text.replace(SLOT, neutral_filler(pair))

    return render_pair(pair, template.id, prompts)


def render_pair(
    pair: DualPair,
    template_id: str,
    prompts: Callable[[str, str, tuple[str, ...], tuple[str, ...]], tuple[str, ...]],
    family: str = "zero-shot",
) -> list[PromptItem]:
    """The a->b (cue a, target b) and b->a items of `pair`; `prompts(cue, target, cue's other
    duals, target's other duals)` gives the clean, the corrupted and the neutral prompt."""
    items = []
    for direction, cue, target, others, target_others in (
        ("a->b", pair.a, pair.b, pair.a_other_duals, pair.b_other_duals),
        ("b->a", pair.b, pair.a, pair.b_other_duals, pair.a_other_duals),
    ):
        prompt, corrupted, neutral = prompts(cue, target, others, target_others)
        items.append(
            PromptItem(
                id=f"{pair.id}|{template_id}|{direction}",
                pair_id=pair.id,
                template_id=template_id,
                category=pair.category,
                source=pair.source,
                pos=pair.pos,
                cue=cue,
                target=target,
                distractor=cue,
                other_duals=tuple(w for w in others if w not in (cue, target)),
                prompt=prompt,
                corrupted_prompt=corrupted,
                direction=direction,
                target_other_duals=tuple(w for w in target_others if w not in (cue, target)),
                family=family,
                tags=pair.tags,
                neutral_prompt=neutral,
            )
        )
    return items


def _check_one_slot_differs(template: Template, prompt: str, corrupted: str) -> None:
    head, _, tail = template.text.partition(SLOT)
    ok = (
        prompt != corrupted
        and prompt.startswith(head)
        and corrupted.startswith(head)
        and prompt.endswith(tail)
        and corrupted.endswith(tail)
    )
    if not ok:
        raise TemplateError(
            f"template {template.id!r}: clean and corrupted prompts must differ in the cue slot "
            f"only: {prompt!r} vs {corrupted!r}"
        )
