"""How much of a paste each stage of matching examines: the caps that keep any input's cost bounded.

Every stage is also linear in what it is given; the caps bound the constant. Slack's own limit on a
message is 40 000 characters; a paste of an error rarely runs past a few hundred.
"""

MAX_INPUT_CHARS = 40_000     # cleaned, and searched for codes
MAX_CODE_SHAPES = 500        # code-shaped stretches looked at (a log of errors holds a few dozen)
MAX_WORDING_CHARS = 6_000    # wording compared with the KB's, over all the parts of a paste together
MAX_QUESTION_CHARS = 2_000   # read for a question, or matched to FAQ questions
MAX_RETRIEVAL_CHARS = 800    # searched for by their words (people describe an error in a sentence or two)
MAX_QUOTES = 8               # quoted stretches of a paste matched on their own
MAX_PARTS = 50               # stretches of a paste (one per code mentioned) whose wording is compared
