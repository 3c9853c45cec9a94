"""The run vocabulary: which runs are finished, ranked or terminal, their counts and totals, cache reads.

Every reader of runs asks these questions through here, so "finished" means one thing everywhere.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import connections, models
from django.db.models import Aggregate, Count, Max, Q, Sum
from django.db.models.functions import Coalesce

from apps.core.types import Id

CACHE_CHUNK_POSTGRES = 50_000  # keys per PostgreSQL query (one array parameter)


class StatusCountsMixin:
    def counts_by_status(self) -> dict[str, int]:
        """Rows per status, every status of the model present (zero when none)."""
        counts = dict.fromkeys(self.model.Status.values, 0)
        counts.update(self.order_by().values_list("status").annotate(n=Count("pk")))
        return counts


class SweepQuerySet(StatusCountsMixin, models.QuerySet):
    pass


class RunQuerySet(StatusCountsMixin, models.QuerySet):

    def next_position(self) -> int:
        """The position after the last of these runs: an added batch never shares a position (a redirect
        or a removed remainder leaves gaps, so the count of runs is not it)."""
        last = self.order_by().aggregate(last=Max("position"))["last"]
        return 0 if last is None else last + 1
    def terminal(self) -> RunQuerySet:
        """Runs that will not change any more: finished, failed or cancelled."""
        return self.filter(status__in=self.model.TERMINAL)

    def unfinished(self) -> RunQuerySet:
        """Runs still to execute: pending, or running under a lease."""
        return self.filter(status__in=self.model.UNFINISHED)

    def finished(self) -> RunQuerySet:
        """Runs whose every item produced an output (completed, or served from the cache)."""
        return self.filter(status__in=self.model.FINISHED)

    def scored(self) -> RunQuerySet:
        """Runs that reached scoring: finished or failed (a failed run's successful items are scored)."""
        return self.filter(status__in=self.model.SCORED)

    def ranked(self) -> RunQuerySet:
        """What the leaderboard ranks: scored runs that nobody rejected."""
        return self.scored().exclude(approval=self.model.Approval.REJECTED)

    def totals(self, **extra: Aggregate) -> dict:
        """One aggregate: run count, terminal count, calls, cache hits, tokens and cost (zeros when empty),
        and any `extra` aggregates in the same scan."""
        return self.order_by().aggregate(
            # Counts of columns in run_sweep_claim_totals, not of id: a sweep's totals come from the index alone.
            runs=Count("*"),
            terminal=Count("status", filter=Q(status__in=self.model.TERMINAL)),
            calls=Coalesce(Sum("calls"), 0),
            cache_hits=Coalesce(Sum("cache_hits"), 0),
            tokens_in=Coalesce(Sum("tokens_in"), 0),
            tokens_out=Coalesce(Sum("tokens_out"), 0),
            cost=Coalesce(Sum("cost_estimate"), Decimal("0")),
            **extra,
        )


class ResponseCacheManager(models.Manager):
    def lookup(self, *, owner_id: Id, keys: list[str], fields: tuple[str, ...] = ("response",),
               chunk_size: int | None = None) -> dict[str, tuple]:
        """key → the `fields` of `owner_id`'s cached entries among `keys`, in as few statements as allowed.

        Raw SQL because building `key__in` lookups through the ORM cost more than the queries (0.5 s for
        10⁵ keys). `chunk_size` (keys per statement) defaults to what the database accepts.
        """
        found: dict[str, tuple] = {}
        unique = list(dict.fromkeys(keys))
        if not unique:
            return found
        connection = connections[self.db]
        quote = connection.ops.quote_name
        meta = self.model._meta
        owner = meta.get_field("owner").target_field.get_db_prep_value(owner_id, connection)
        columns = ", ".join(quote(meta.get_field(name).column) for name in ("key", *fields))
        select = f"SELECT {columns} FROM {quote(meta.db_table)} WHERE {quote('owner_id')} = %s AND {quote('key')}"
        postgres = connection.vendor == "postgresql"
        size = chunk_size or (CACHE_CHUNK_POSTGRES if postgres else (connection.features.max_query_params or 1000) - 1)
        with connection.cursor() as cursor:
            for start in range(0, len(unique), size):
                chunk = unique[start : start + size]
                if postgres:
                    cursor.execute(f"{select} = ANY(%s)", [owner, chunk])
                else:
                    cursor.execute(f"{select} IN ({', '.join(['%s'] * len(chunk))})", [owner, *chunk])
                found.update((row[0], tuple(row[1:])) for row in cursor.fetchall())
        return found
