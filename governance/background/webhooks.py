"""Webhooks, part one: waking a worker after commit. The outbox rows themselves are written in the
change's transaction by the workflow (`governance.workflow.outbox.enqueue`, re-exported here);
delivery (signing, retries, back-off) runs on Celery after commit and from a periodic sweep
(governance.background.delivery)."""

from __future__ import annotations

from governance.workflow.outbox import EVENT_TYPES, enqueue, enqueue_many  # noqa: F401


def _kick_delivery() -> None:
    """After commit, ask a worker to deliver now. If the broker is down the rows stay pending
    and the periodic sweep delivers them later: nothing is lost."""
    try:
        from governance.background.tasks import deliver_webhooks

        deliver_webhooks.apply_async(retry=False)
    except Exception:  # broker unreachable: the sweep will pick the rows up
        import logging

        logging.getLogger(__name__).warning("could not queue webhook delivery; the sweep will retry", exc_info=True)
