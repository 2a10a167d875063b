"""factory-boy factories for the domain's data (users, board members, topics, references)."""

from __future__ import annotations

import datetime as dt

import factory
from django.contrib.auth.models import Group, User
from django.utils import timezone

from articles.models import Reference, Topic
from governance.models import ReviewPolicy
from reviewers.models import BoardMember, ConflictOfInterest, CredentialChange, Specialty

PASSWORD = "correct horse battery staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def groups(self, create, extracted, **kwargs):
        if extracted:
            for name in extracted:
                # get_or_create: a transactional test flushes the groups the migration made
                self.groups.add(Group.objects.get_or_create(name=name)[0])
        self.save()


class TopicFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Topic
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"topic-{n}")
    name = factory.LazyAttribute(lambda t: t.slug.replace("-", " ").title())


class SpecialtyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Specialty
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"specialty-{n}")
    name = factory.LazyAttribute(lambda s: s.slug.replace("-", " ").title())


class BoardMemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BoardMember
        skip_postgeneration_save = True

    user = factory.SubFactory(UserFactory)
    printed_name = factory.LazyAttribute(lambda m: f"Dr {m.user.first_name} {m.user.last_name}")
    credentials = "MD"
    affiliation = "St Elsewhere Hospital"
    licence_number = factory.Sequence(lambda n: f"LIC{n:06d}")
    licence_jurisdiction = "GMC (UK)"
    licence_expires_on = factory.LazyFunction(lambda: timezone.localdate() + dt.timedelta(days=365))
    # Verified by someone else (as governance.workflow.services.credentials would): pass credentials_verified_at=None
    # and credentials_verified_by=None for a member nobody verified yet.
    credentials_verified_at = factory.LazyFunction(timezone.now)
    credentials_verified_by = factory.LazyFunction(lambda: User.objects.get_or_create(
        username="factory-verifier", defaults={"first_name": "Registry", "last_name": "Checker"})[0])

    @factory.post_generation
    def specialties(self, create, extracted, **kwargs):
        for specialty in extracted or []:
            self.specialties.add(specialty)

    @factory.post_generation
    def verification(self, create, extracted, **kwargs):
        """The verification record behind credentials_verified_at (the dossier reads it)."""
        if create and self.credentials_verified_at is not None:
            CredentialChange.objects.create(
                member=self, proposed_by=self.credentials_verified_by, proposed_at=self.credentials_verified_at,
                note="Recorded by the test factory.", status=CredentialChange.Status.VERIFIED,
                decided_by=self.credentials_verified_by, decided_at=self.credentials_verified_at,
                decision_note="Checked on the register (test factory).")


class ConflictFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ConflictOfInterest

    member = factory.SubFactory(BoardMemberFactory)
    topic = factory.SubFactory(TopicFactory)
    nature = ConflictOfInterest.Nature.CONSULTING
    counterparty = "Acme Pharma"
    starts_on = factory.LazyFunction(lambda: timezone.localdate() - dt.timedelta(days=30))


class ReferenceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Reference

    kind = Reference.Kind.RESEARCH
    title = factory.Sequence(lambda n: f"A randomised trial number {n}")
    authors = ["Smith J", "Jones AB"]
    container = "BMJ"
    year = 2021
    doi = factory.Sequence(lambda n: f"10.1136/bmj.test{n}")


class ReviewPolicyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReviewPolicy

    topic = factory.SubFactory(TopicFactory)
    approvals_required = 2
