from typing import Any

import factory

from accounts.models import User

PASSWORD = "correct horse battery staple"


class UserFactory(factory.django.DjangoModelFactory[User]):
    """Users made the way the product makes them (accounts.services.create_user: starter categories too)."""

    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    username = factory.Sequence(lambda n: f"user{n}")

    @classmethod
    def _create(cls, model_class: type[User], *args: Any, **kwargs: Any) -> User:
        from accounts.services import create_user

        password = kwargs.pop("password", PASSWORD)
        return create_user(kwargs.pop("email"), kwargs.pop("username"), password, **kwargs)
