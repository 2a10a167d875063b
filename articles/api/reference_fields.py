"""The serializer fields of a reference's detail fields (`articles.models.DETAIL_FIELDS`),
declared once from the model and inherited by every serializer that carries a reference."""

from __future__ import annotations

from rest_framework import serializers

from articles.bibliography import DETAIL_LABELS, TEXT_DETAILS, max_length


def _output_fields() -> dict[str, serializers.Field]:
    fields: dict[str, serializers.Field] = {
        name: serializers.CharField(allow_blank=True, help_text=f"{DETAIL_LABELS[name].capitalize()} (\"\" if none).")
        for name in TEXT_DETAILS}
    fields["accessed"] = serializers.DateField(allow_null=True, help_text="When a web page was read.")
    return fields


def _input_fields() -> dict[str, serializers.Field]:
    fields: dict[str, serializers.Field] = {
        name: serializers.CharField(required=False, allow_blank=True, allow_null=True, max_length=max_length(name),
                                    help_text=DETAIL_LABELS[name].capitalize() + ".")
        for name in TEXT_DETAILS}
    fields["accessed"] = serializers.DateField(required=False, allow_null=True, help_text="When a web page was read.")
    return fields


# DRF collects declared fields from class attributes: these bases are built from the model's list.
ReferenceDetailsOutput = type("ReferenceDetailsOutput", (serializers.Serializer,), _output_fields())
ReferenceDetailsInput = type("ReferenceDetailsInput", (serializers.Serializer,), _input_fields())
