"""Page-number pagination for API lists: `?page=&page_size=`, answered with count/page/page_size/next.

Every API list is paginated so no request can ask for an unbounded result; a client walks the
pages by following `next` until it is null.
"""

from __future__ import annotations

from django.db.models import QuerySet
from ninja import Field, Schema

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500


class PageParams(Schema):
    page: int = Field(1, ge=1, description="页码,从 1 开始")
    page_size: int = Field(DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE,
                           description=f"每页条数,最多 {MAX_PAGE_SIZE}")


class PageMeta(Schema):
    count: int = Field(description="符合条件的总条数")
    page: int
    page_size: int
    next: str | None = Field(description="下一页的完整地址;没有下一页时为 null")
    previous: str | None = Field(description="上一页的完整地址;第一页时为 null")


def _page_url(request, page: int) -> str:
    query = request.GET.copy()
    query["page"] = str(page)
    return request.build_absolute_uri(f"{request.path}?{query.urlencode()}")


def paginate(request, queryset: QuerySet | list, params: PageParams) -> tuple[list, dict]:
    """One page of `queryset` (two queries: count and slice) and the page members.

    A page past the end is empty rather than an error, so a client that raced a deletion
    simply stops.
    """
    count = queryset.count() if isinstance(queryset, QuerySet) else len(queryset)
    start = (params.page - 1) * params.page_size
    items = list(queryset[start:start + params.page_size]) if start < count else []
    meta = {
        "count": count,
        "page": params.page,
        "page_size": params.page_size,
        "next": _page_url(request, params.page + 1) if start + params.page_size < count else None,
        "previous": _page_url(request, params.page - 1) if params.page > 1 else None,
    }
    return items, meta
