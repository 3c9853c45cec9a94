"""REST for the leaderboard, human ratings and re-scoring."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.experiments.selectors import experiment_get
from apps.runs import selectors
from apps.runs.leaderboard import leaderboard_rows
from apps.runs.services.ratings import RatingInvalid, run_rate
from apps.runs.services.scoring import rescore_enqueue



class RatingInput(serializers.Serializer):
    thumbs = serializers.ChoiceField(choices=["up", "down"], required=False)
    stars = serializers.IntegerField(min_value=1, max_value=5, required=False)
    scorer = serializers.CharField(max_length=100, required=False)
    item_id = serializers.CharField(max_length=200, required=False)
    repeat = serializers.IntegerField(min_value=0, required=False)
    comment = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")

    def validate(self, data):
        if ("thumbs" in data) == ("stars" in data):
            raise serializers.ValidationError({"thumbs": ["Give either thumbs (up/down) or stars (1–5)."]})
        return data


def leaderboard_row_json(row) -> dict:
    run = row.run
    return {
        "rank": row.rank, "run_id": str(run.pk), "status": run.status, "approved": row.approved,
        "point": run.point, "weighted_score": row.weighted_score,
        "weighted_ci": list(row.weighted_ci) if row.weighted_ci else None,
        "tied": row.tied, "overlaps_previous": row.overlaps_previous, "scores": row.scores,
        "tokens_in": run.tokens_in, "tokens_out": run.tokens_out, "cost_usd": str(run.cost_estimate),
        "duration_ms": run.duration_ms,
        "mean_latency_ms": round(row.mean_latency_ms, 1) if row.mean_latency_ms is not None else None,
    }


class LeaderboardApi(APIView):
    guest_readable = True

    def get(self, request, experiment_id):
        experiment = experiment_get(user=request.user, experiment_id=experiment_id)
        sort = request.query_params.get("sort") or "weighted_score"
        order = request.query_params.get("order", "desc")
        if order not in ("asc", "desc"):
            return Response({"order": ["Use asc or desc."]}, status=400)
        try:
            limit = min(500, max(1, int(request.query_params.get("limit", 50))))
            offset = max(0, int(request.query_params.get("offset", 0)))
        except ValueError:
            return Response({"limit": ["limit and offset must be integers."]}, status=400)
        names = {s.get("name") or s["type"] for s in experiment.scoring_config.get("scorers", [])} | {"human"}
        if sort != "weighted_score" and sort not in names:
            return Response({"sort": [f"Sort by weighted_score or a scorer: {', '.join(sorted(names))}."]}, status=400)
        total, rows = leaderboard_rows(experiment=experiment, sort=sort, descending=order == "desc",
                                       offset=offset, limit=limit)
        return Response({"count": total, "sort": sort, "order": order,
                         "results": [leaderboard_row_json(row) for row in rows]})


class RunScoreApi(APIView):
    @extend_schema(request=RatingInput)
    def post(self, request, run_id):
        run = selectors.run_get(user=request.user, run_id=run_id)
        data = RatingInput(data=request.data)
        data.is_valid(raise_exception=True)
        opts = data.validated_data
        rating = {"thumbs": opts["thumbs"]} if "thumbs" in opts else {"stars": opts["stars"]}
        try:
            score = run_rate(user=request.user, run=run, rating=rating, scorer=opts.get("scorer"),
                             item_id=opts.get("item_id"), repeat=opts.get("repeat"), comment=opts["comment"])
        except RatingInvalid as exc:
            return Response(exc.errors, status=400)
        run.refresh_from_db(fields=["weighted_score"])
        return Response({"scorer": score.scorer_name, "value": score.value, "item_id": score.item_id,
                         "weighted_score": run.weighted_score}, status=status.HTTP_201_CREATED)


class RescoreApi(APIView):
    def post(self, request, experiment_id):
        experiment = experiment_get(user=request.user, experiment_id=experiment_id)
        rescore_enqueue(experiment_id=experiment.pk)
        return Response({"detail": "Re-scoring queued; progress appears as scoring.* events."}, status=202)
