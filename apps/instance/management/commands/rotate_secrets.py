"""Re-encrypt every stored secret with the first key in ENCRYPTION_KEYS."""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from apps.core import crypto
from apps.endpoints.models import Endpoint
from apps.webhooks.models import WebhookConfig

ENCRYPTED_FIELDS = [
    (Endpoint, ["api_key_encrypted"]),
    (WebhookConfig, ["headers_encrypted", "secret_encrypted"]),
]


class Command(BaseCommand):
    help = "Re-encrypt endpoint keys and webhook secrets with the newest key (first in ENCRYPTION_KEYS)."

    def handle(self, *args, **options) -> None:
        total = 0
        try:
            with transaction.atomic():
                for model, fields in ENCRYPTED_FIELDS:
                    for obj in model.objects.only("pk", *fields).iterator():
                        for field in fields:
                            setattr(obj, field, crypto.rotate(getattr(obj, field)))
                        obj.save(update_fields=fields)
                        total += 1
        except crypto.SecretDecryptionError as exc:
            raise CommandError(f"{exc} Nothing was changed.") from exc
        self.stdout.write(f"Re-encrypted secrets on {total} rows.")
