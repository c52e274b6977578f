"""Shares: list, create, revoke."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Router, Status
from ninja.errors import HttpError
from ninja.pagination import LimitOffsetPagination, paginate

from api import services
from api.auth import require
from api.schemas import ShareIn, ShareOut
from batches.models import TimelapseBatch
from sharing.models import Share
from sharing.services import create_share

router = Router(tags=["shares"])


@router.get("", response=list[ShareOut], summary="Shares, newest first")
@paginate(LimitOffsetPagination)
def list_shares(request: HttpRequest, active: bool | None = None):
    require(request, "sharing.view_share")
    shares = services.shares_with_batches()
    if active is not None:
        shares = shares.filter(is_active=active)
    return shares


@router.post("", response={201: ShareOut}, summary="Share completed batches")
def create(request: HttpRequest, body: ShareIn):
    require(request, "sharing.add_share", write=True)
    found = TimelapseBatch.objects.in_bulk(body.batch_ids)
    missing = [pk for pk in body.batch_ids if pk not in found]
    if missing:
        raise HttpError(400, f"No batch with id {missing[0]}.")
    try:
        share = create_share(
            [found[pk] for pk in body.batch_ids],
            body.title,
            **body.dict(exclude={"batch_ids", "title"}),
            creator_name=request.user.get_username() or None,
        )
    except ValidationError as exc:
        raise HttpError(400, " ".join(exc.messages)) from exc
    except ValueError as exc:
        message = str(exc)
        raise HttpError(400, message[:1].upper() + message[1:].rstrip(".") + ".") from exc
    return Status(201, services.shares_with_batches().get(pk=share.pk))


@router.post("/{share_id}/revoke", response=ShareOut, summary="Take a share offline now")
def revoke(request: HttpRequest, share_id: int):
    require(request, "sharing.change_share", write=True)
    share = get_object_or_404(Share, pk=share_id)
    Share.objects.filter(pk=share.pk).update(is_active=False)
    return services.shares_with_batches().get(pk=share.pk)
