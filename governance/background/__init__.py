"""Background work: the periodic jobs (staleness, reminders, retractions), notification emails, the
webhook outbox and its delivery, and the Celery tasks on top. It calls the workflow.
"""
