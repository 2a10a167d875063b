"""Forms of the advisory board's admin: the signed review decision, conflict-of-interest
declarations and their end, board profiles, credential change proposals and their verification,
and assigning a reviewer. Forms only collect input; the services decide (a form shows the same
errors a service would refuse on, from the service's own check)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone

from .models import BoardMember, ConflictOfInterest, CredentialChange


class ReviewDecisionForm(forms.Form):
    """A board member's decision on the revision under review, signed by re-entering the password
    (checked by `governance.workflow.services.review_record`, which records nothing if it does not match)."""

    DECISIONS = (
        ("approve", "Approve: I have reviewed this revision and it is medically accurate"),
        ("request_changes", "Request changes: the text must change before it can be approved"),
    )

    decision = forms.ChoiceField(choices=DECISIONS, widget=forms.RadioSelect)
    comments = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 6, "cols": 80}),
        help_text="Required when you request changes: say what must change. Kept with your signature.",
    )
    password = forms.CharField(
        label="Your password", strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text="Re-enter your password to sign. Your printed name, credentials, the time, the meaning of the "
                  "decision and the hash of this revision are recorded with it.",
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if cleaned.get("decision") == "request_changes" and not (cleaned.get("comments") or "").strip():
            self.add_error("comments", "Say what needs to change: comments are required when you request changes.")
        return cleaned


class ConflictDeclarationForm(forms.ModelForm):
    """Declare an interest in a topic. `nature` is required: "None: nothing to declare" is an
    explicit answer, different from leaving it blank (which the form refuses)."""

    class Meta:
        model = ConflictOfInterest
        fields = ("member", "topic", "nature", "counterparty", "description", "starts_on", "ends_on")
        help_texts = {
            "nature": "ICMJE category of the interest. Choose \"None: nothing to declare\" to state explicitly "
                      "that you have no interest in this topic.",
            "ends_on": "Set the date the interest ended to end the declaration; leave empty while it continues.",
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        nature = self.fields.get("nature")
        if nature is not None:
            nature.required = True
            nature.error_messages["required"] = (
                "Choose the nature of the interest, or \"None: nothing to declare\"; it cannot be left blank.")


class ConflictEndForm(forms.ModelForm):
    """End a declaration: from today on (never back-dated), with a reason. Nothing else of a
    declaration changes once it is made."""

    end_on = forms.DateField(
        label="End on", required=False, help_text="Today or later; leave empty for today. The declaration still "
                                                  "applies on that day.")
    end_reason = forms.CharField(
        label="Reason for ending", required=False, widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="Why the declaration ends. To correct a declaration, end it and declare again.")

    class Meta:
        model = ConflictOfInterest
        fields: tuple[str, ...] = ()

    def clean(self) -> dict[str, Any]:
        from governance.workflow.services.conflicts import end_errors

        cleaned = super().clean()
        if cleaned.get("end_on") or (cleaned.get("end_reason") or "").strip():
            on = cleaned.get("end_on") or timezone.localdate()
            for field, messages in end_errors(self.instance, on, cleaned.get("end_reason") or "").items():
                self.add_error("end_on" if field == "ends_on" else field, messages)
        return cleaned


class BoardMemberForm(forms.ModelForm):
    """A board profile. A verifier editing someone else's eligibility facts says how they checked
    them (`verification_note`): their edit is the verification."""

    verification_note = forms.CharField(
        label="How you verified them", required=False, widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
        help_text="Required when you change a credential or add a member: the register you checked, the "
                  "certificate you saw. Your edit is recorded as your verification.")
    acting_user: Any = None  # set by the admin: whoever is saving

    class Meta:
        model = BoardMember
        fields = ("user", "printed_name", "credentials", "specialties", "affiliation", "bio", "licence_number",
                  "licence_jurisdiction", "licence_expires_on", "is_active", "joined_on")

    ELIGIBILITY = (*CredentialChange.VALUE_FIELDS, "specialties")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if "verification_note" not in self.fields:
            return cleaned
        adding = self.instance.pk is None
        user = cleaned.get("user") if adding else self.instance.user
        own = user is not None and self.acting_user is not None and user.pk == self.acting_user.pk
        changed = [n for n in self.changed_data if n in self.ELIGIBILITY]
        if (changed or (adding and not own)) and not (cleaned.get("verification_note") or "").strip():
            self.add_error("verification_note", "Say how you verified the credentials (the register checked, the "
                                                "certificate seen): it is kept with your verification.")
        return cleaned


class CredentialProposalForm(forms.ModelForm):
    """A member proposes new eligibility facts (leave empty what does not change), with a note
    saying where they can be checked. Nothing changes until someone else verifies it."""

    acting_member: BoardMember | None = None  # set by the admin: the proposer's own profile

    class Meta:
        model = CredentialChange
        fields = ("member", *CredentialChange.VALUE_FIELDS, "specialties_added", "specialties_removed", "note")
        help_texts = {
            "specialties_added": "Specialties to add to the profile.",
            "specialties_removed": "Specialties to take off the profile.",
        }

    def clean(self) -> dict[str, Any]:
        from governance.workflow.services.credentials import proposal_errors

        cleaned = super().clean()
        member = cleaned.get("member") or self.acting_member
        if member is not None:
            changes = {n: cleaned.get(n) for n in CredentialChange.VALUE_FIELDS}
            errors = proposal_errors(member, changes, cleaned.get("specialties_added") or [],
                                     cleaned.get("specialties_removed") or [])
            for field, messages in errors.items():
                self.add_error(field if field in self.fields else None, messages)
        return cleaned


class CredentialDecisionForm(forms.ModelForm):
    """A verifier's decision on a pending proposal: verify (its values then count) or reject."""

    decision = forms.ChoiceField(choices=(("verify", "Verify: I checked these values; apply them"),
                                          ("reject", "Reject: the values cannot be verified")),
                                 widget=forms.RadioSelect)
    decision_note = forms.CharField(
        label="Your note", widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="How you checked it (the register, the certificate seen), or why it is rejected. Kept with "
                  "the decision and told to the member.")

    class Meta:
        model = CredentialChange
        fields: tuple[str, ...] = ()


class AssignReviewerForm(forms.Form):
    """The managing editor asks a board member to review an article."""

    reviewer = forms.ModelChoiceField(
        queryset=BoardMember.objects.filter(is_active=True).select_related("user").prefetch_related("specialties"),
        help_text="Authors, members with an active conflict of interest on the topic and members with an expired "
                  "licence are refused, naming the rule.",
    )
    due_at = forms.DateTimeField(
        label="Due", required=False,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text="Leave empty for the review policy's default.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reviewer"].label_from_instance = self._label

    @staticmethod
    def _label(member: BoardMember) -> str:
        specialties = ", ".join(s.name for s in member.specialties.all())
        return f"{member} — {specialties or 'no specialty'} (licence to {member.licence_expires_on:%d %b %Y})"
