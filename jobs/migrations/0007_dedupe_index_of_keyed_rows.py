"""The one-active-per-dedupe-key index holds only rows that have a key (issue 17).

Holding every active row, it looked tiny to PostgreSQL's planner, which used it for the claim
and for UPDATEs by id and walked every dead entry a burst of jobs had left behind.
Numbered 0008: other branches of the same issue add 0006 and 0007 (renumbered on merge).
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("jobs", "0006_queue_control"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="jobrun",
            name="job_runs_one_active_per_dedupe_key",
        ),
        migrations.AddConstraint(
            model_name="jobrun",
            constraint=models.UniqueConstraint(
                condition=models.Q(
                    ("dedupe_key__isnull", False), ("status__in", ["queued", "running"])
                ),
                fields=("dedupe_key",),
                name="job_runs_one_active_per_dedupe_key",
            ),
        ),
    ]
