"""`GET /api/v1/editorial/references/lookup/?doi=…|pmid=…`: a reference filled from Crossref or
NCBI's E-utilities (`articles.lookup`), for the caller to review and send with an article. Nothing
is saved: 404 when the service knows no such identifier, 503 with Retry-After when it is slow,
down or limiting us."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from articles import lookup
from articles.models import Reference
from governance.workflow.exceptions import ContentInvalid

from . import serializers as s
from .editorial import ERRORS, INVALID, EditorialView
from .reference_fields import ReferenceDetailsOutput


class LookupQuerySerializer(serializers.Serializer):
    doi = serializers.CharField(required=False, allow_blank=True, max_length=255)
    pmid = serializers.CharField(required=False, allow_blank=True, max_length=12)


class NoticeSerializer(serializers.Serializer):
    type = serializers.CharField(help_text="Crossref's update type: retraction, correction, new_version…")
    effect = serializers.ChoiceField(["retracted", "corrected", "expression_of_concern", "superseded"],
                                     help_text="What the notice makes of the work.")
    doi = serializers.CharField(allow_blank=True, help_text="The notice's DOI.")
    label = serializers.CharField()


class LookedUpReferenceSerializer(ReferenceDetailsOutput):
    kind = serializers.ChoiceField(Reference.Kind.values)
    title = serializers.CharField(allow_blank=True)
    authors = serializers.ListField(child=serializers.CharField(), help_text="As cited: Polack FP.")
    container = serializers.CharField(allow_blank=True)
    year = serializers.IntegerField(allow_null=True)
    doi = serializers.CharField(allow_null=True)
    pmid = serializers.CharField(allow_null=True)
    pmcid = serializers.CharField(allow_blank=True)
    url = serializers.CharField(allow_blank=True)
    source = serializers.ChoiceField(["crossref", "pubmed"], help_text="The service that answered.")
    retraction_status = serializers.ChoiceField(
        ["none", "retracted", "corrected", "expression_of_concern", "superseded"],
        help_text="From Crossref's `updated-by` notices (else PubMed's retraction flag).")
    notices = NoticeSerializer(many=True)


class UnavailableSerializer(s.ErrorSerializer):
    retry_after = serializers.IntegerField(help_text="Seconds; also in the Retry-After header.")


class ReferenceLookupView(EditorialView):
    @extend_schema(
        operation_id="editorial_reference_lookup", tags=["editorial"], summary="Fill a reference from its DOI or PMID",
        description="Looks the DOI up in Crossref's REST API, else the PMID in NCBI's E-utilities (each cross-linked "
        "with the other where it can be), and answers the `references[]` fields plus the details (volume, issue, "
        "pages…) and any retraction or correction Crossref records. Nothing is saved. Give `doi` or `pmid`.",
        parameters=[OpenApiParameter("doi", str, description="e.g. 10.1056/NEJMoa2034577"),
                    OpenApiParameter("pmid", str, description="e.g. 33301246")],
        responses={200: LookedUpReferenceSerializer, **INVALID, **ERRORS,
                   404: OpenApiResponse(s.ErrorSerializer, description="The service knows no such identifier."),
                   503: OpenApiResponse(UnavailableSerializer, description="The service is slow, down or limiting "
                                        "us; the reference can still be typed by hand.")},
    )
    def get(self, request: Any) -> Any:
        query = LookupQuerySerializer(data=request.query_params)
        if not query.is_valid():
            raise ContentInvalid(query.errors)
        doi, pmid = query.validated_data.get("doi", ""), query.validated_data.get("pmid", "")
        try:
            reference = lookup.lookup_reference(doi=doi, pmid=pmid)
        except ValueError as exc:
            raise ContentInvalid({"doi" if doi or not pmid else "pmid": [str(exc)]}) from exc
        except lookup.ReferenceNotFound as exc:
            return Response({"detail": exc.message, "code": "not_found"}, status=404)
        except lookup.LookupUnavailable as exc:
            return Response({"detail": exc.message, "code": "service_unavailable", "retry_after": exc.retry_after},
                            status=503, headers={"Retry-After": str(exc.retry_after)})
        return Response(LookedUpReferenceSerializer(reference).data)
