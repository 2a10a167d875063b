"""Random editorial work through the editorial API; after every step the public API must serve
exactly the text that was approved and then published, with the right review status."""

import datetime as dt

import time_machine
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from articles.models import Revision
from reviewers.models import Review, ReviewAssignment
from tests.conftest import BODY
from tests.factories import PASSWORD

REFERENCES = [
    {"key": "trial2021", "title": "SGLT2 inhibitors in heart failure", "doi": "10.1056/NEJMoa0000001", "year": 2021},
    {"key": "nice2018", "kind": "guideline", "title": "Chronic heart failure in adults", "year": 2018,
     "url": "https://www.nice.org.uk/guidance/ng106"},
]
REVIEW_INTERVAL_DAYS = 365  # the built-in default policy: the test topic has none of its own


def test_it_only_ever_serves_approved_and_published_text(site, as_writer, as_chief, as_reviewer, board, topic,
                                                         settings_override_rates):
    reviewers = {m.pk: as_reviewer(m) for m in board[:2]}
    seen = {"published": 0, "withdrawn": 0, "overdue checks": 0, "steps": 0}

    class EditorialWork(RuleBasedStateMachine):
        articles = Bundle("articles")

        def __init__(self):
            super().__init__()
            self.atomic = transaction.atomic()
            self.atomic.__enter__()
            self.traveller = None
            self.days_ahead = 0
            self.approved: dict[str, str | None] = {}  # slug -> revision hash approved, not yet replaced
            self.live: dict[str, str | None] = {}  # slug -> revision hash the public API must serve
            self.due: dict[str, dt.date] = {}  # slug -> next review date of the live text
            self.approved_on: dict[str, dt.date] = {}
            self.withdrawn: set[str] = set()
            self.edits = 0

        def teardown(self):
            if self.traveller is not None:
                self.traveller.stop()
            transaction.set_rollback(True)
            self.atomic.__exit__(None, None, None)

        @initialize(target=articles)
        def first_article(self):
            return self._create()

        @rule(target=articles)
        def create(self):
            return self._create()

        def _create(self):
            response = as_writer.post("/api/v1/editorial/articles/", {
                "title": "Living with heart failure", "summary": "What it is", "topic": topic.slug,
                "body_markdown": BODY, "references": REFERENCES}, format="json")
            assert response.status_code == 201, response.json()
            slug = response.json()["slug"]
            self.approved[slug] = self.live[slug] = None
            return slug

        def _working_revision(self, slug):
            return as_chief.get(f"/api/v1/editorial/articles/{slug}/").json()["revision"]

        @rule(slug=articles, words=st.sampled_from(["Plainer words.", "New dosing table.", "Typo fixed."]))
        def edit(self, slug, words):
            self.edits += 1
            response = as_writer.patch(f"/api/v1/editorial/articles/{slug}/",
                                       {"summary": f"{words} ({self.edits})", "change_note": words}, format="json")
            assert response.status_code in (200, 409), response.json()
            if response.status_code == 200:
                self.approved[slug] = None  # the working revision changed: nothing approved to publish

        @rule(slug=articles)
        def submit(self, slug):
            response = as_writer.post(f"/api/v1/editorial/articles/{slug}/transitions/submit/", format="json")
            assert response.status_code in (200, 409), response.json()

        @rule(slug=articles)
        def assign(self, slug):
            for member in board[:2]:
                response = as_chief.post(f"/api/v1/editorial/articles/{slug}/assignments/",
                                         {"reviewer": member.user.username}, format="json")
                assert response.status_code in (201, 409), response.json()

        @rule(slug=articles)
        def start_review(self, slug):
            response = as_chief.post(f"/api/v1/editorial/articles/{slug}/transitions/start_review/", format="json")
            assert response.status_code in (200, 409), response.json()

        @rule(slug=articles, which=st.integers(0, 1), approve=st.booleans())
        def decide(self, slug, which, approve):
            member = board[which]
            assignment = ReviewAssignment.objects.filter(article__slug=slug, reviewer=member,
                                                         status="open").first()
            if assignment is None:
                return
            body = {"decision": "approve", "password": PASSWORD} if approve else {
                "decision": "request_changes", "password": PASSWORD, "comments": "Please cite the 2023 update."}
            response = reviewers[member.pk].post(f"/api/v1/editorial/assignments/{assignment.pk}/review/", body,
                                                 format="json")
            assert response.status_code in (201, 409), response.json()
            if response.status_code == 201 and response.json()["article_state"] == "approved":
                self.approved[slug] = response.json()["revision_hash"]
                self.approved_on[slug] = timezone.localdate()

        @rule(slug=articles)
        def request_changes(self, slug):
            response = as_chief.post(f"/api/v1/editorial/articles/{slug}/transitions/request_changes/",
                                     {"reason": "Needs a patient variant"}, format="json")
            assert response.status_code in (200, 409), response.json()

        @rule(slug=articles)
        def publish(self, slug):
            response = as_chief.post(f"/api/v1/editorial/articles/{slug}/transitions/publish/", format="json")
            assert response.status_code in (200, 409), response.json()
            if response.status_code == 200:
                assert self.approved[slug] is not None, "published something that was never approved"
                self.live[slug] = self.approved[slug]
                self.due[slug] = self.approved_on[slug] + dt.timedelta(days=REVIEW_INTERVAL_DAYS)
                self.withdrawn.discard(slug)
                seen["published"] += 1
                assert response.json()["live_revision"] == self.live[slug]

        @rule(slug=articles)
        def withdraw(self, slug):
            response = as_chief.post(f"/api/v1/editorial/articles/{slug}/transitions/withdraw/",
                                     {"reason": "Guidance changed"}, format="json")
            assert response.status_code in (200, 409), response.json()
            if response.status_code == 200:
                self.approved[slug] = None
                if self.live[slug] is not None:
                    self.withdrawn.add(slug)
                    seen["withdrawn"] += 1
                self.live[slug] = None

        @rule(slug=articles, steps=st.integers(1, 5))
        def advance(self, slug, steps):
            """Up to `steps` steps along the happy path (random single steps rarely reach publication)."""
            for _ in range(steps):
                state = as_chief.get(f"/api/v1/editorial/articles/{slug}/").json()["state"]
                if state == "draft":
                    self.submit(slug)
                elif state in ("submitted", "review_due"):
                    self.assign(slug)
                    self.start_review(slug)
                elif state == "in_review":
                    for which in (0, 1):
                        self.decide(slug, which, approve=True)
                elif state == "approved":
                    self.publish(slug)
                elif state in ("published", "withdrawn"):
                    self.edit(slug, "Updated after new evidence.")
                else:
                    return

        @precondition(lambda self: any(self.live.values()))
        @rule(data=st.data())
        def withdraw_a_live_article(self, data):
            self.withdraw(data.draw(st.sampled_from(sorted(s for s, live in self.live.items() if live))))

        @rule(days=st.sampled_from([40, 200, 400]))
        def time_passes(self, days):
            if self.traveller is not None:
                self.traveller.stop()
            self.days_ahead += days
            self.traveller = time_machine.travel(timezone.now() + dt.timedelta(days=days), tick=True)
            self.traveller.start()

        @invariant()
        def public_api_serves_only_approved_published_text(self):
            today = timezone.localdate()
            seen["steps"] += 1
            for slug, revision_hash in self.live.items():
                response = site.get(f"/api/v1/articles/{slug}/")
                if revision_hash is None:
                    assert response.status_code == (410 if slug in self.withdrawn else 404), slug
                    continue
                assert response.status_code == 200, response.json()
                served = response.json()
                assert served["revision"] == revision_hash
                revision = Revision.objects.get(article__slug=slug, content_hash=revision_hash)
                assert served["body_html"] == revision.body_html
                assert served["summary"] == revision.summary
                assert Review.objects.filter(revision=revision, decision="approved").count() >= 2
                expected = "review_overdue" if self.due[slug] < today else "approved"
                seen["overdue checks"] += expected == "review_overdue"
                assert served["review_status"] == expected
            listed = {item["slug"]: item["review_status"]
                      for item in site.get("/api/v1/articles/", {"page_size": 100}).json()["results"]}
            assert set(listed) == {slug for slug, live in self.live.items() if live is not None}

    run_state_machine_as_test(EditorialWork, settings=settings(
        max_examples=12, stateful_step_count=25, deadline=None, database=None, derandomize=True,
        suppress_health_check=list(HealthCheck)))
    print(f"state machine: {seen}")
    # Without publications the invariant would only ever have checked 404s. Derandomized (a fixed
    # seed) so that CI always runs the same walk, which does publish and withdraw.
    assert seen["published"] > 0 and seen["withdrawn"] > 0
