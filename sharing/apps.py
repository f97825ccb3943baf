from django.apps import AppConfig


class SharingConfig(AppConfig):
    name = "sharing"
    verbose_name = "Sharing"

    def ready(self) -> None:
        from entries import feed
        from sharing.selectors import grantees_of, peers_of

        # A change to a shared entry reaches its grantees' feeds; a write locks their rows too.
        if grantees_of not in feed.recipient_hooks:
            feed.recipient_hooks.append(grantees_of)
        if peers_of not in feed.peer_hooks:
            feed.peer_hooks.append(peers_of)
