"""Categories and tags API."""

from __future__ import annotations

import uuid

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import signed_in_user
from entries import selectors, services
from entries.api.serializers import CategoryIn, CategoryNodeOut, CategoryOut, TagIn, TagOut
from entries.models import Category, Tag


class CategoriesView(APIView):
    @extend_schema(responses={200: CategoryOut(many=True)})
    def get(self, request: Request) -> Response:
        rows = selectors.categories_for(signed_in_user(request))
        return Response({"results": CategoryOut(rows, many=True).data, "next": None})

    @extend_schema(request=CategoryIn, responses={201: CategoryOut})
    def post(self, request: Request) -> Response:
        data = CategoryIn(data=request.data)
        data.is_valid(raise_exception=True)
        category = services.create_category(actor=signed_in_user(request), **data.validated_data)
        return Response(CategoryOut(category).data, status=status.HTTP_201_CREATED)


class CategoryTreeView(APIView):
    @extend_schema(responses={200: CategoryNodeOut(many=True)})
    def get(self, request: Request) -> Response:
        tree = selectors.category_tree(signed_in_user(request))
        return Response({"results": CategoryNodeOut(tree, many=True).data})  # type: ignore[arg-type]


class CategoryView(APIView):
    @extend_schema(responses={200: CategoryOut})
    def get(self, request: Request, category_id: uuid.UUID) -> Response:
        category = Category.objects.get(id=category_id, owner=signed_in_user(request))
        return Response(CategoryOut(category).data)

    @extend_schema(request=CategoryIn, responses={200: CategoryOut})
    def patch(self, request: Request, category_id: uuid.UUID) -> Response:
        data = CategoryIn(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        category = services.update_category(
            actor=signed_in_user(request), category_id=category_id, **data.validated_data
        )
        return Response(CategoryOut(category).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, category_id: uuid.UUID) -> Response:
        services.delete_category(actor=signed_in_user(request), category_id=category_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class TagsView(APIView):
    @extend_schema(responses={200: TagOut(many=True)})
    def get(self, request: Request) -> Response:
        rows = selectors.tags_for_owner(signed_in_user(request))
        return Response({"results": TagOut(rows, many=True).data, "next": None})

    @extend_schema(request=TagIn, responses={201: TagOut})
    def post(self, request: Request) -> Response:
        data = TagIn(data=request.data)
        data.is_valid(raise_exception=True)
        tag = services.create_tag(actor=signed_in_user(request), **data.validated_data)
        return Response(TagOut(tag).data, status=status.HTTP_201_CREATED)


class TagView(APIView):
    @extend_schema(responses={200: TagOut})
    def get(self, request: Request, tag_id: uuid.UUID) -> Response:
        return Response(TagOut(Tag.objects.get(id=tag_id, owner=signed_in_user(request))).data)

    @extend_schema(request=TagIn, responses={200: TagOut})
    def patch(self, request: Request, tag_id: uuid.UUID) -> Response:
        data = TagIn(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        tag = services.update_tag(actor=signed_in_user(request), tag_id=tag_id, **data.validated_data)
        return Response(TagOut(tag).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, tag_id: uuid.UUID) -> Response:
        services.delete_tag(actor=signed_in_user(request), tag_id=tag_id)
        return Response(status=status.HTTP_204_NO_CONTENT)
