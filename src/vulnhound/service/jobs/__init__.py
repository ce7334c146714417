"""Jobs: the ``jobs`` table is the truth; executors (in-process threads, Celery workers) carry only job ids."""
