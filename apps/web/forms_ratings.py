"""The human rating form: thumbs or stars with a comment. It parses; run_rate validates the rating itself."""

from __future__ import annotations

from django import forms

THUMBS = [("up", "Thumbs up"), ("down", "Thumbs down")]
STARS = [(n, f"{n} star{'s' if n > 1 else ''}") for n in range(1, 6)]


class RatingForm(forms.Form):
    # Not restricted to the choices here: the scorer's own rule ("a whole number from 1 to 5") is the message.
    thumbs = forms.CharField(required=False, max_length=10, widget=forms.RadioSelect(choices=THUMBS))
    stars = forms.IntegerField(required=False, widget=forms.RadioSelect(choices=STARS))
    comment = forms.CharField(required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 2}))
    item_id = forms.CharField(max_length=200, widget=forms.HiddenInput)
    repeat = forms.IntegerField(min_value=0, required=False, widget=forms.HiddenInput)

    def rating(self) -> dict:
        """The rating as run_rate takes it: only the parts given ({"stars": 4})."""
        data = self.cleaned_data
        return {key: data[key] for key in ("thumbs", "stars") if data.get(key) not in (None, "")}

    def rate_kwargs(self) -> dict:
        data = self.cleaned_data
        return {"rating": self.rating(), "item_id": data["item_id"], "repeat": data["repeat"],
                "comment": data["comment"]}


class QueueRatingForm(RatingForm):
    """A rating given in the queue also names the run the output belongs to."""

    run = forms.UUIDField(widget=forms.HiddenInput)
