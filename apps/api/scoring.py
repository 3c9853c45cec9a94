"""REST for the leaderboard, human ratings and re-scoring."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.experiments.secrets import point_endpoints_masked
from apps.experiments.selectors import experiment_get
from apps.experiments.validation import MAX_REPEATS
from apps.runs import selectors
from apps.runs.leaderboard import leaderboard_rows
from apps.runs.masking import endpoints_hidden
from apps.runs.models import Run
from apps.runs.services.ratings import run_rate
from apps.runs.services.scoring import rescore_enqueue

MAX_OFFSET = 2**31 - 1


class RatingInput(serializers.Serializer):
    thumbs = serializers.ChoiceField(choices=["up", "down"], required=False)
    stars = serializers.IntegerField(min_value=1, max_value=5, required=False)
    scorer = serializers.CharField(max_length=100, required=False)
    item_id = serializers.CharField(max_length=200, required=False)
    repeat = serializers.IntegerField(min_value=0, max_value=MAX_REPEATS - 1, required=False)
    comment = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")

    def validate(self, data):
        if ("thumbs" in data) == ("stars" in data):
            raise serializers.ValidationError({"thumbs": ["Give either thumbs (up/down) or stars (1–5)."]})
        return data


class LeaderboardQuery(serializers.Serializer):
    sort = serializers.CharField(max_length=100, required=False, allow_blank=True, default="weighted_score",
                                 help_text="weighted_score or a scorer's name.")
    order = serializers.ChoiceField(choices=["asc", "desc"], required=False, default="desc",
                                    error_messages={"invalid_choice": "Use asc or desc."})
    limit = serializers.IntegerField(min_value=1, max_value=500, required=False, default=50)
    offset = serializers.IntegerField(min_value=0, max_value=MAX_OFFSET, required=False, default=0)


class ScorerSummaryOutput(serializers.Serializer):
    mean = serializers.FloatField(allow_null=True)
    std = serializers.FloatField(allow_null=True)
    n = serializers.IntegerField()
    ci_low = serializers.FloatField(allow_null=True, help_text="95% confidence interval over items × repeats.")
    ci_high = serializers.FloatField(allow_null=True)
    errored = serializers.IntegerField()
    weight = serializers.FloatField()


class LeaderboardRowOutput(serializers.Serializer):
    rank = serializers.IntegerField(
        help_text="The run's rank by weighted score, whatever `sort` and `order` say (they only order the rows): "
                  "1 is the best, equal weighted scores share a rank, partial runs rank after every full run, "
                  "runs without a weighted score share the last rank.")
    run_id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=Run.Status.choices)
    approved = serializers.BooleanField()
    point = serializers.DictField(help_text="Parameter values by path.")
    weighted_score = serializers.FloatField(allow_null=True)
    weighted_ci = serializers.ListField(child=serializers.FloatField(), min_length=2, max_length=2, allow_null=True)
    items_scored = serializers.IntegerField(allow_null=True, help_text="Items the run was scored on.")
    partial = serializers.BooleanField(help_text="Scored on a subset of the items (a halving rung); partial runs "
                                                 "rank after every run on all items.")
    tied = serializers.BooleanField(help_text="Shares its rank: another run has the same weighted score.")
    overlaps_previous = serializers.BooleanField(
        help_text="Its interval overlaps the row above's (sorted by weighted_score only; false otherwise).")
    overlaps_leader = serializers.BooleanField(
        help_text="Its interval overlaps #1's: not clearly worse than the best (in any order; false for #1).")
    tied_with_best = serializers.BooleanField(
        help_text="Near #1, and a paired test by item cannot tell it from #1 at the experiment's alpha "
                  "(docs/significance.md).")
    best_p_value = serializers.FloatField(
        allow_null=True, help_text="That test's one-sided p-value (#1 better than this run); null when not tested.")
    scores = serializers.DictField(child=ScorerSummaryOutput(), help_text="By scorer name.")
    tokens_in = serializers.IntegerField()
    tokens_out = serializers.IntegerField()
    cost_usd = serializers.DecimalField(max_digits=14, decimal_places=6)
    duration_ms = serializers.IntegerField(allow_null=True)
    mean_latency_ms = serializers.FloatField(allow_null=True)


class LeaderboardOutput(serializers.Serializer):
    count = serializers.IntegerField()
    sort = serializers.CharField()
    order = serializers.ChoiceField(choices=["asc", "desc"])
    results = LeaderboardRowOutput(many=True)


class RatingOutput(serializers.Serializer):
    scorer = serializers.CharField()
    value = serializers.FloatField(allow_null=True)
    item_id = serializers.CharField(help_text="Empty when the rating is for the whole run.")
    weighted_score = serializers.FloatField(allow_null=True, help_text="The run's weighted score after this rating.")


class QueuedOutput(serializers.Serializer):
    detail = serializers.CharField()


def leaderboard_row_json(row, *, hide_endpoints: bool) -> dict:
    run = row.run
    return {
        "rank": row.rank, "run_id": str(run.pk), "status": run.status, "approved": row.approved,
        "point": point_endpoints_masked(run.point) if hide_endpoints else run.point,
        "weighted_score": row.weighted_score,
        "weighted_ci": list(row.weighted_ci) if row.weighted_ci else None,
        "items_scored": row.items_scored, "partial": row.partial,
        "tied": row.tied, "overlaps_previous": row.overlaps_previous,
        "overlaps_leader": row.overlaps_leader, "tied_with_best": row.tied_with_best,
        "best_p_value": row.best_p_value, "scores": row.scores,
        "tokens_in": run.tokens_in, "tokens_out": run.tokens_out, "cost_usd": str(run.cost_estimate),
        "duration_ms": run.duration_ms,
        "mean_latency_ms": round(row.mean_latency_ms, 1) if row.mean_latency_ms is not None else None,
    }


class LeaderboardApi(APIView):
    guest_readable = True

    @extend_schema(parameters=[LeaderboardQuery], responses=LeaderboardOutput)
    def get(self, request, experiment_id):
        experiment = experiment_get(user=request.user, experiment_id=experiment_id)
        query = LeaderboardQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        sort, order = query.validated_data["sort"] or "weighted_score", query.validated_data["order"]
        limit, offset = query.validated_data["limit"], query.validated_data["offset"]
        names = set(experiment.spec.scoring.names()) | {"human"}
        if sort != "weighted_score" and sort not in names:
            return Response({"sort": [f"Sort by weighted_score or a scorer: {', '.join(sorted(names))}."]}, status=400)
        total, rows = leaderboard_rows(experiment=experiment, sort=sort, descending=order == "desc",
                                       offset=offset, limit=limit)
        hidden = endpoints_hidden(viewer=request.user, owner_id=experiment.project.owner_id)
        return Response({"count": total, "sort": sort, "order": order,
                         "results": [leaderboard_row_json(row, hide_endpoints=hidden) for row in rows]})


class RunScoreApi(APIView):
    @extend_schema(request=RatingInput, responses={201: RatingOutput},
                   description="Rate a run (or one item of it): give either thumbs (up/down) or stars (1–5).")
    def post(self, request, run_id):
        run = selectors.run_get(user=request.user, run_id=run_id)
        data = RatingInput(data=request.data)
        data.is_valid(raise_exception=True)
        opts = data.validated_data
        rating = {"thumbs": opts["thumbs"]} if "thumbs" in opts else {"stars": opts["stars"]}
        score = run_rate(user=request.user, run=run, rating=rating, scorer=opts.get("scorer"),
                         item_id=opts.get("item_id"), repeat=opts.get("repeat"), comment=opts["comment"])
        run.refresh_from_db(fields=["weighted_score"])
        return Response({"scorer": score.scorer_name, "value": score.value, "item_id": score.item_id,
                         "weighted_score": run.weighted_score}, status=status.HTTP_201_CREATED)


class RescoreApi(APIView):
    @extend_schema(request=None, responses={202: QueuedOutput})
    def post(self, request, experiment_id):
        experiment = experiment_get(user=request.user, experiment_id=experiment_id)
        rescore_enqueue(experiment_id=experiment.pk)
        return Response({"detail": "Re-scoring queued; progress appears as scoring.* events."}, status=202)
