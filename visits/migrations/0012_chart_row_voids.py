# Chart rows entered by mistake are voided with a reason, never deleted (the vial of a recalled lot stays findable).

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("visits", "0011_alert_handling"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="vialused",
            name="voided_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="vialused",
            name="voided_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="vialused",
            name="void_reason",
            field=models.CharField(blank=True, max_length=300),
        ),
        migrations.AddConstraint(
            model_name="vialused",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("voided_at__isnull", True), models.Q(("void_reason", ""), _negated=True), _connector="OR"
                ),
                name="voided_vial_has_reason",
            ),
        ),
    ]
