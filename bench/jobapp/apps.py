from __future__ import annotations

from django.apps import AppConfig


class BenchJobAppConfig(AppConfig):
    name = "bench.jobapp"
    label = "benchjobapp"
    verbose_name = "Benchmark job types"

    def ready(self) -> None:
        from django_q.signals import post_execute, post_execute_in_worker

        from bench.jobapp.marks import on_task_done, on_task_saved

        # Counts completions of raw tasks and tickets alike, in the worker, the same way...
        post_execute_in_worker.connect(on_task_done, dispatch_uid="bench.task_done")
        # ...and in the monitor, once the result is saved (if asked) and acknowledged.
        post_execute.connect(on_task_saved, dispatch_uid="bench.task_saved")
