"""Where dual pairs come from: the hand-curated table and WordNet's direct antonyms."""
