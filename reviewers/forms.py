"""Forms of the advisory board's admin: the signed review decision, conflict-of-interest
declarations, and assigning a reviewer. Forms only collect input; the services decide."""

from __future__ import annotations

from typing import Any

from django import forms

from .models import BoardMember, ConflictOfInterest


class ReviewDecisionForm(forms.Form):
    """A board member's decision on the revision under review, signed by re-entering the password
    (checked by `governance.services.review_record`, which records nothing if it does not match)."""

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
