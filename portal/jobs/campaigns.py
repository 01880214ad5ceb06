"""Campaign jobs (docs/architecture.md, "Proactive messaging"): the dispatcher on queue "outbound",
which queues a campaign's next batch and runs again (at once while there is room, a second later
while the queued messages are ahead of the rate), and the timer on queue "default"."""

from __future__ import annotations

from portal.extensions import db
from portal.services import campaigns

# While the queued messages are ahead of the rate, look again after this long.
WAIT_SECONDS = 1.0


def dispatch(campaign_id: int) -> None:
    more, queued = campaigns.dispatch(campaign_id, commit=db.session.commit)
    if more:
        campaigns.enqueue_dispatch(campaign_id, delay=0.0 if queued else WAIT_SECONDS)


def tick() -> dict[str, int]:
    return campaigns.tick(commit=db.session.commit)
