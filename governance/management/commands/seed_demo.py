"""Load the demo data of API.md ("Demo data"): people and the board, topics with review policies,
references, the editorial policy, and articles in every workflow state.

Idempotent: what exists is left as it is, so a second run changes nothing and writes no audit
event. Specialties, topics, review policies and the editorial policy are added through
`governance.workflow.configuration` by the managing editor (audited like an edit in the admin); articles
go through `governance.workflow.services` like real work (one transaction per article, so an interrupted
run leaves no half-walked article), which fills the audit log and the changes feed.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

import demo
from articles.figures import FigureInput
from articles.models import Article, Topic
from demo import figure as demo_figure
from governance.background import retractions
from governance.models import EditorialPolicy, ReviewPolicy
from governance.workflow import configuration, services
from governance.workflow.services import ArticleContent, VariantInput, conflicts, credentials, figures
from reviewers.models import BoardMember, ConflictOfInterest, CredentialChange, ReviewAssignment, Specialty

APPROVAL_COMMENTS = [
    "Accurate and in line with current guidance.",
    "Checked against the cited sources; clear for a general audience.",
    "Medically accurate. No changes needed.",
]


class Command(BaseCommand):
    help = "Load the Imprimatur demo data (idempotent) and print the demo logins."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--force", action="store_true",
                            help="Load the demo data even with IMPRIMATUR_PRODUCTION=1.")

    def handle(self, *args: Any, **options: Any) -> None:
        if getattr(settings, "IMPRIMATUR_PRODUCTION", False) and not options["force"]:
            # The demo accounts share one known password (IMPRIMATUR_DEMO_PASSWORD), the managing
            # editor's included: on a real site they would be a way in.
            raise CommandError("Refusing to load the demo data with IMPRIMATUR_PRODUCTION=1: it creates accounts "
                               "with a known password. Pass --force to load it anyway.")
        self.password = settings.IMPRIMATUR_DEMO_PASSWORD
        self.created: list[str] = []
        with transaction.atomic():
            self.users = self._people()
            self.topics = self._topics()
            self._policies()
            self._conflicts()
            self._editorial_policy()
        for spec in demo.ARTICLES:
            if Article.objects.filter(slug=spec["slug"]).exists():
                continue
            with transaction.atomic():
                self._article(spec)
            self.created.append(f"article {spec['slug']} ({spec['path']})")
        self._report()

    # --- people, topics, policies -------------------------------------------------------------

    def _user(self, fields: dict[str, Any], *, group: str | None, is_staff: bool):
        User = get_user_model()
        user, created = User.objects.get_or_create(
            username=fields["username"],
            defaults={"first_name": fields["first_name"], "last_name": fields["last_name"],
                      "email": f"{fields['username']}@example.org", "is_staff": is_staff},
        )
        if created or not user.check_password(self.password):
            # A changed IMPRIMATUR_DEMO_PASSWORD is applied; an unchanged one leaves the row alone.
            user.set_password(self.password)
            user.save(update_fields=["password"])
            if created:
                self.created.append(f"user {user.username}")
        if group and not user.groups.filter(name=group).exists():
            user.groups.add(Group.objects.get(name=group))
        return user

    def _people(self) -> dict[str, Any]:
        users = {}
        for person in demo.STAFF:
            users[person["username"]] = self._user(person, group=person["group"], is_staff=person["is_staff"])
        specialties = {}
        for slug, name in demo.SPECIALTIES:
            specialties[slug] = Specialty.objects.filter(slug=slug).first() or configuration.specialty_create(
                actor=users["chief"], fields={"slug": slug, "name": name})
        today = timezone.localdate()
        for person in demo.BOARD:
            user = self._user(person, group=None, is_staff=True)
            users[person["username"]] = user
            member, created = BoardMember.objects.get_or_create(user=user, defaults={
                "printed_name": person["printed_name"], "credentials": person["credentials"],
                "affiliation": person["affiliation"], "bio": person["bio"],
                "licence_number": person["licence_number"], "licence_jurisdiction": person["licence_jurisdiction"],
                "licence_expires_on": today + dt.timedelta(days=person["licence_days"]),
                "joined_on": today - dt.timedelta(days=400),
            })
            if created:
                member.specialties.set([specialties[s] for s in person["specialties"]])
                self.created.append(f"board member {member.printed_name}")
            if member.credentials_verified_at is None:
                credentials.credentials_record(actor=users[demo.VERIFIED_BY], member=member,
                                               note=demo.VERIFICATION_NOTE)
                member.refresh_from_db()  # user.board_member is this instance: keep it true to the row
                self.created.append(f"verification of {member.printed_name}'s credentials")
        self._pending_renewal(users, today)
        return users

    def _pending_renewal(self, users: dict[str, Any], today: dt.date) -> None:
        """reviewer-expired's proposed licence renewal, left pending (see demo.PENDING_RENEWAL)."""
        renewal = demo.PENDING_RENEWAL
        member = users[renewal["username"]].board_member
        if CredentialChange.objects.filter(member=member, proposed_by=member.user).exists():
            return
        credentials.credential_change_propose(
            actor=member.user, member=member, note=renewal["note"],
            changes={"licence_expires_on": today + dt.timedelta(days=renewal["licence_days"])})
        self.created.append(f"pending credential change of {member.printed_name}")

    def _topics(self) -> dict[str, Topic]:
        topics = {}
        for slug, name, description in demo.TOPICS:
            topics[slug] = Topic.objects.filter(slug=slug).first()
            if topics[slug] is None:
                topics[slug] = configuration.topic_create(actor=self.users["chief"], fields={
                    "slug": slug, "name": name, "description": description})
                self.created.append(f"topic {slug}")
        return topics

    def _policies(self) -> None:
        for topic_slug, tier, approvals, required, interval, grace in demo.POLICIES:
            topic = self.topics[topic_slug] if topic_slug else None
            if ReviewPolicy.objects.filter(topic=topic, risk_tier=tier).exists():
                continue
            policy = configuration.review_policy_create(actor=self.users["chief"], fields={
                "topic": topic, "risk_tier": tier, "approvals_required": approvals, "review_interval_days": interval,
                "unpublish_grace_days": grace, "required_specialties": Specialty.objects.filter(slug__in=required)})
            self.created.append(f"review policy {policy}")

    def _conflicts(self) -> None:
        for username, topic_slug, nature, counterparty, description in demo.CONFLICTS:
            member = self.users[username].board_member
            topic = self.topics[topic_slug]
            if ConflictOfInterest.objects.filter(member=member, topic=topic, nature=nature).exists():
                continue
            declaration = ConflictOfInterest(member=member, topic=topic, nature=nature, counterparty=counterparty,
                                             description=description,
                                             starts_on=timezone.localdate() - dt.timedelta(days=200))
            declaration.full_clean()
            conflicts.conflict_declare(actor=member.user, conflict=declaration)
            self.created.append(f"declaration {declaration}")

    def _editorial_policy(self) -> None:
        if EditorialPolicy.objects.filter(version=demo.EDITORIAL_POLICY_VERSION).exists():
            return
        configuration.editorial_policy_publish(actor=self.users["chief"], fields={
            "version": demo.EDITORIAL_POLICY_VERSION, "effective_at": timezone.now(),
            "body_markdown": demo.EDITORIAL_POLICY})
        self.created.append(f"editorial policy v{demo.EDITORIAL_POLICY_VERSION}")

    # --- articles -----------------------------------------------------------------------------

    def _content(self, spec: dict[str, Any], *, body: str, keys: list[str]) -> ArticleContent:
        references = [{"key": key, **demo.REFERENCES[key]} for key in keys]
        variants = [VariantInput(v["audience"], v["body"], v.get("summary", "")) for v in spec.get("variants", [])]
        return ArticleContent(title=spec["title"], summary=spec["summary"], body_markdown=body,
                              origin=spec.get("origin", "human"), references=references, variants=variants)

    def _member(self, username: str) -> BoardMember:
        return self.users[username].board_member

    def _review_round(self, article: Article, usernames: list[str], *, sign: list[str] | None = None) -> Article:
        """Assign (reusing assignments still open), start the review and sign approvals."""
        chief = self.users["chief"]
        open_assignments = {a.reviewer.user.username: a for a in
                            ReviewAssignment.objects.filter(article=article, status=ReviewAssignment.Status.OPEN)
                            .select_related("reviewer__user")}
        assignments = []
        for username in usernames:
            assignment = open_assignments.get(username) or services.assignment_create(
                article=article, actor=chief, reviewer=self._member(username))
            assignments.append(assignment)
        article = services.article_start_review(article=article, actor=chief)
        signers = usernames if sign is None else sign
        for i, assignment in enumerate(a for a in assignments if a.reviewer.user.username in signers):
            services.review_record(assignment=assignment, actor=self.users[assignment.reviewer.user.username],
                                   decision="approve", password=self.password,
                                   comments=APPROVAL_COMMENTS[i % len(APPROVAL_COMMENTS)])
        article.refresh_from_db()
        return article

    def _article(self, spec: dict[str, Any]) -> Article:
        article = self._walk(spec)
        self._backdate_turnaround(article)
        return article

    def _backdate_turnaround(self, article: Article) -> None:
        """The services stamp an assignment and its decision with the same "now": in the same
        transaction, move `assigned_at` of the decided assignments back (demo.TURNAROUND_DAYS plus
        a day per earlier demo article), so the board report shows realistic turnaround."""
        extra = next(i for i, spec in enumerate(demo.ARTICLES) if spec["slug"] == article.slug)
        decided = (ReviewAssignment.objects.filter(article=article, completed_at__isnull=False)
                   .select_related("reviewer__user"))
        for assignment in decided:
            days = demo.TURNAROUND_DAYS.get(assignment.reviewer.user.username, 5.0) + extra % 4
            ReviewAssignment.objects.filter(pk=assignment.pk).update(
                assigned_at=assignment.completed_at - dt.timedelta(days=days))

    def _retract(self, retraction: dict[str, str]) -> None:
        """A Retraction Watch notice for a demo reference, through the retraction service: the
        reference is marked (audited) and the published articles citing it are flagged."""
        reference = demo.REFERENCES[retraction["reference"]]
        retractions.apply_notices([retractions.Notice(
            record_id=retraction["record_id"], doi=reference.get("doi", ""), pmid=reference.get("pmid", ""),
            status=retractions.NATURES[retraction["nature"].lower()], nature=retraction["nature"],
            date=dt.date.fromisoformat(retraction["date"]), reason=retraction["reason"], notice_doi="")])

    def _figure(self, article: Article) -> Article:
        """The demo's figure (demo/figure.py: drawn now), uploaded into the draft and shown from its
        body, so the review and the approval cover it."""
        editor, figure = self.users["editor"], demo_figure.FIGURE
        upload = SimpleUploadedFile(f"{figure['slug']}.png", demo_figure.figure_png(), content_type="image/png")
        image, _ = figures.figure_image_upload(article=article, actor=editor, upload=upload)
        current = services.content_of(article)
        current.figures = [FigureInput(figure["slug"], image.sha256, figure["alt"], figure["caption"], figure["credit"])]
        current.body_markdown = current.body_markdown.replace(
            figure["before"], f"![](figure:{figure['slug']})\n\n{figure['before']}", 1)
        return services.article_edit(article=article, actor=editor, content=current, change_note="Figure added",
                                     is_major_change=False)

    def _walk(self, spec: dict[str, Any]) -> Article:
        editor, chief = self.users["editor"], self.users["chief"]
        path = spec["path"]
        keys = list(spec["references"])
        related = list(Article.objects.filter(slug__in=spec.get("related", [])))
        article = services.article_create(
            actor=editor, topic=self.topics[spec["topic"]], content=self._content(spec, body=spec["body"], keys=keys),
            slug=spec["slug"], risk_tier=spec.get("risk_tier", "standard"), related=related,
        )
        if spec["slug"] == demo_figure.FIGURE["article"]:
            article = self._figure(article)
        if path == "draft":
            return article
        article = services.article_submit(article=article, actor=editor)
        if path == "submitted":
            return article

        asked = spec.get("changes_requested")
        if asked:
            # A first round in which one reviewer asks for a change; the writer adds it.
            assignment = services.assignment_create(article=article, actor=chief, reviewer=self._member(asked["by"]))
            for username in spec["reviewers"]:
                if username != asked["by"]:
                    services.assignment_create(article=article, actor=chief, reviewer=self._member(username))
            article = services.article_start_review(article=article, actor=chief)
            services.review_record(assignment=assignment, actor=self.users[asked["by"]], decision="request_changes",
                                   password=self.password, comments=asked["comments"])
            article.refresh_from_db()
            body = spec["body"].replace(asked["before"], asked["paragraph"] + asked["before"], 1)
            article = services.article_edit(article=article, actor=editor, content=self._content(spec, body=body, keys=keys),
                                            change_note=asked["change_note"], is_major_change=False)
            article = services.article_submit(article=article, actor=editor)

        article = self._review_round(article, spec["reviewers"], sign=spec.get("signed"))
        if path in ("in_review", "approved"):
            return article
        if path == "scheduled":
            publish_at = timezone.now() + dt.timedelta(days=spec["schedule_in_days"])
            return services.article_schedule(article=article, actor=chief, publish_at=publish_at)

        article = services.article_publish(article=article, actor=chief)
        later = spec.get("later")
        if later:
            body = spec["body"].replace(later["before"], later["insert"] + later["before"], 1)
            new_keys = keys + [key for key in later["references"] if key not in keys]
            article = services.article_edit(
                article=article, actor=editor, content=self._content(spec, body=body, keys=new_keys),
                change_note=later["change_note"], is_major_change=later.get("is_major_change", True),
                reason="New revision of a published article",
            )
            if path == "published_twice":
                article = services.article_submit(article=article, actor=editor)
                article = self._review_round(article, later["reviewers"])
                article = services.article_publish(article=article, actor=chief)
            return article
        if path == "review_due":  # the managing editor brings the re-review forward (public: under_review)
            return services.article_transition(article=article, actor=chief, name="request_re_review",
                                               reason=spec["review_due_reason"])
        if path == "withdrawn":
            return services.article_withdraw(article=article, actor=chief, reason=spec["withdraw_reason"])
        if path == "archived":
            return services.article_archive(article=article, actor=chief, reason=spec["archive_reason"])
        if path != "published":
            raise ValueError(f"Unknown demo path {path!r} for {spec['slug']}")
        if spec.get("retraction"):
            self._retract(spec["retraction"])
            article.refresh_from_db()
        return article

    # --- report -------------------------------------------------------------------------------

    def _report(self) -> None:
        out = self.stdout
        if self.created:
            out.write(self.style.SUCCESS(f"Demo data: created {len(self.created)} item(s)."))
        else:
            out.write("Demo data already loaded: nothing changed.")
        site = settings.SITE_URL
        out.write("")
        out.write(f"Demo logins (password for every account: {self.password})")
        rows = [(p["username"], p["role"], ", ".join(f"{site}{where}" for where in p["signs_in_at"]))
                for p in demo.STAFF]
        for person in demo.BOARD:
            role = ("advisory board (licence expired; renewal proposed, not yet verified)" if person["licence_days"] < 0
                    else "advisory board")
            rows.append((person["username"], role, f"{site}/admin/"))
        width = max(len(r[0]) for r in rows)
        role_width = max(len(r[1]) for r in rows)
        for username, role, where in rows:
            out.write(f"  {username:<{width}}  {self.password}  {role:<{role_width}}  {where}")
        out.write("")
        out.write(f"Editor UI:  {site}/editor/")
        out.write(f"Admin:      {site}/admin/")
        out.write(f"API docs:   {site}/api/docs/")
        out.write(f"Public API: {site}/api/v1/articles/  (key: manage.py create_api_key NAME)")
