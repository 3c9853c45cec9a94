"""Human ratings: thumbs up/down or 1–5 stars entered from the dashboard, normalized to [0, 1].

Not computed by the engine (`computed = False`); the rating view calls `normalize` and stores the
result as a score like any other. Thumbs: up → 1, down → 0. Stars: (stars − 1) / 4.
"""

from __future__ import annotations

from typing import Any

from apps.engine.scorers import options as opt
from apps.engine.scorers.base import OptionsInvalid, Scorer, ScoreResult, ScoringContext

SCALES = ("thumbs", "stars", "both")


class HumanScorer(Scorer):
    type = "human"
    computed = False
    human = True

    @classmethod
    def validate_options(cls, options: dict[str, Any]) -> dict[str, Any]:
        options = opt.start(options, ("scale",))
        return {"scale": opt.choice(options, "scale", SCALES, "both")}

    def normalize(self, rating: Any) -> float:
        """A rating such as {"thumbs": "up"} or {"stars": 4} as a value in [0, 1]."""
        scale = self.options["scale"]
        if not isinstance(rating, dict):
            raise OptionsInvalid("rating", 'Must be an object like {"thumbs": "up"} or {"stars": 4}.')
        given = [key for key in ("thumbs", "stars") if rating.get(key) is not None]
        extra = sorted(set(rating) - {"thumbs", "stars"})
        if extra:
            raise OptionsInvalid(str(extra[0]), "Unknown rating field; use thumbs or stars.")
        if len(given) != 1:
            raise OptionsInvalid("thumbs" if scale == "thumbs" else "stars",
                                 "Give exactly one rating: thumbs (up/down) or stars (1–5).")
        key = given[0]
        if scale not in (key, "both"):
            raise OptionsInvalid(key, f"This scorer takes {scale} ratings.")
        value = rating[key]
        if key == "thumbs":
            if value not in ("up", "down"):
                raise OptionsInvalid("thumbs", 'Must be "up" or "down".')
            return 1.0 if value == "up" else 0.0
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value not in (1, 2, 3, 4, 5):
            raise OptionsInvalid("stars", "Must be a whole number from 1 to 5.")
        return (int(value) - 1) / 4

    async def score(self, ctx: ScoringContext) -> ScoreResult:
        return ScoreResult.failed("human ratings are entered by people from the dashboard, not computed")
