from django.urls import URLPattern, URLResolver, include, path
from rest_framework.routers import SimpleRouter

from entries.api import generator, organize
from entries.api.search import SearchView
from entries.api.views import EntryViewSet
from personalpod.routing import api_path

router = SimpleRouter()
router.register("entries", EntryViewSet, basename="entry")
# The same routes without the trailing slash (clients differ; a POST cannot follow a redirect).
aliases = SimpleRouter(trailing_slash="")  # type: ignore[arg-type]
aliases.register("entries", EntryViewSet, basename="entry-alias")

# The busiest first (Django tries them in order; none overlaps another).
urlpatterns: list[URLPattern | URLResolver] = [
    *api_path("search", SearchView.as_view(), name="search"),
    *router.urls,
    *aliases.urls,
    path("", include("entries.attachments.urls")),
    *api_path("categories/tree", organize.CategoryTreeView.as_view(), name="category-tree"),
    *api_path("categories", organize.CategoriesView.as_view(), name="categories"),
    *api_path("categories/<uuid:category_id>", organize.CategoryView.as_view(), name="category"),
    *api_path("tags", organize.TagsView.as_view(), name="tags"),
    *api_path("password-generator", generator.PasswordGeneratorView.as_view(), name="password-generator"),
    *api_path("tags/<uuid:tag_id>", organize.TagView.as_view(), name="tag"),
]
